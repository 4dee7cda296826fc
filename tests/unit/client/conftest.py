"""Fixtures for the client unit tests: a ``responses`` mock that must see every registered
call, and a client for two controllers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from client_helpers import BASE, OTHER

from linstor_core.client import LinstorClient
from linstor_core.config import ClientConfig


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def client() -> LinstorClient:
    return LinstorClient(ClientConfig(controllers=(BASE, OTHER)))
