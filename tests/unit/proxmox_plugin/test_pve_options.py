"""storage.cfg sections: what is accepted, what is refused and why."""

from __future__ import annotations

import pytest

from linstor_core.errors import ConfigError, InvalidInput
from proxmox_plugin.options import DEFAULT_STATUS_CACHE_SECONDS, StorageOptions, parse_options


def test_full_section() -> None:
    scfg = {"type": "linstor", "content": {"images": 1}, "shared": 1, "controller": "a, b:3370",
            "resourcegroup": "gold", "preferlocal": "yes", "statuscache": 30, "apica": "/ca.pem",
            "apicrt": "/c.pem", "apikey": "/k.pem", "apitoken": "/auth.json"}
    assert parse_options("ls", scfg) == StorageOptions(
        storeid="ls", profile="gold", controllers=("a", "b:3370"), prefer_local=True,
        status_cache_seconds=30, ca_file="/ca.pem", client_cert="/c.pem", client_key="/k.pem",
        token_file="/auth.json")


def test_defaults_and_profile_alias() -> None:
    options = parse_options("ls", {"type": "linstor", "profile": "silver"})
    assert options.profile == "silver"
    assert options.controllers == ()
    assert options.status_cache_seconds == DEFAULT_STATUS_CACHE_SECONDS
    assert options.prefer_local is False


@pytest.mark.parametrize("scfg, field", [
    ({"resourcegroup": "g", "redundancy": 2}, "storage option"),
    ({"resourcegroup": "g", "statuscache": "soon"}, "statuscache"),
    ({"resourcegroup": "g", "statuscache": -1}, "statuscache"),
    ({"resourcegroup": "g", "preferlocal": "maybe"}, "preferlocal"),
    ({"resourcegroup": "g", "profile": "h"}, "profile"),
])
def test_bad_sections_name_the_option(scfg: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_options("ls", scfg)
    assert caught.value.field == field


def test_a_resource_group_is_required() -> None:
    with pytest.raises(ConfigError, match="names no resource group"):
        parse_options("ls", {"type": "linstor"})
