"""What the action arguments do not carry, asked from oned over XML-RPC with pyone.

TM actions get ids only; a VM's name (disks are named after it), its disks' SOURCE/CLONE and a
datastore's template come from ``one.vm.info`` / ``one.datastore.info`` / ``one.image.info``.
The endpoint and credentials are oned's own conventions for its drivers: ``ONE_XMLRPC`` and the
``ONE_AUTH`` file (default ``~/.one/one_auth``, ``user:password``). pyone is imported on first
use: actions that need no lookup do not pay for loading it.
"""

from __future__ import annotations

import os
import xmlrpc.client
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linstor_core.errors import ConfigError, LinstorError
from opennebula_driver.records import Datastore, Vm
from opennebula_driver.xmldoc import datastore_record, vm_record

DEFAULT_ENDPOINT = "http://localhost:2633/RPC2"
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class OnedConfig:
    """Where oned listens and the ``ONE_AUTH`` file to read the session from."""

    endpoint: str
    auth_file: Path


def load_oned_config(environ: Mapping[str, str] = os.environ) -> OnedConfig:
    """oned's driver environment: ``ONE_XMLRPC`` and ``ONE_AUTH`` (read lazily, on first lookup)."""
    home = environ.get("HOME", "/var/lib/one")
    return OnedConfig(
        endpoint=environ.get("ONE_XMLRPC") or DEFAULT_ENDPOINT,
        auth_file=Path(environ.get("ONE_AUTH") or os.path.join(home, ".one", "one_auth")),
    )


def _read_session(auth_file: Path) -> str:
    try:
        session = auth_file.read_text().strip().splitlines()[0].strip()
    except (OSError, IndexError) as error:
        raise ConfigError(
            f"cannot read the OpenNebula session from {auth_file}",
            cause=str(error) or "empty file",
            correction="run the driver as oneadmin or set ONE_AUTH to a file holding user:password",
        ) from None
    if ":" not in session:
        raise ConfigError(f"{auth_file} does not hold user:password", correction="fix the ONE_AUTH file")
    return session


def _default_server(endpoint: str, session: str) -> Any:
    import pyone

    server = pyone.OneServer(endpoint, session=session, timeout=TIMEOUT_SECONDS)
    if isinstance(server, xmlrpc.client.ServerProxy) and _plain_http_without_proxy(endpoint):
        # pyone posts each call with requests.post: a new session that reads the environment's
        # proxy settings again, about 1 ms of a 2 ms lookup. For plain http with no proxy
        # applying, the standard library's transport sends the same request on http.client,
        # keeping the connection when oned does. Its sockets also honour the default timeout
        # pyone's constructor sets (TIMEOUT_SECONDS), which pyone's transport does not.
        # HTTPS and proxied endpoints keep pyone's transport: its certificates, its proxies.
        server._ServerProxy__transport = xmlrpc.client.Transport()
    return server


def _plain_http_without_proxy(endpoint: str) -> bool:
    """Whether ``endpoint`` is http:// and no proxy variable applies to it: ``http_proxy`` or
    ``all_proxy`` (either case) unless ``no_proxy`` exempts the host, as requests decides."""
    if not endpoint.startswith("http://"):
        return False
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return True  # the usual driver environment: no need for requests' fuller lookup
    import requests.utils

    return requests.utils.select_proxy(endpoint, requests.utils.get_environ_proxies(endpoint)) is None


class Oned:
    """Lookups in oned; the XML-RPC client is made on the first call (no I/O in the constructor)."""

    def __init__(self, config: OnedConfig, server_factory: Callable[[str, str], Any] = _default_server) -> None:
        self._config = config
        self._factory = server_factory
        self._server: Any = None

    def _call(self, method: str, *params: object) -> Any:
        if self._server is None:
            self._server = self._factory(self._config.endpoint, _read_session(self._config.auth_file))
        target = self._server
        for part in method.split("."):
            target = getattr(target, part)
        try:
            return target(*params)
        except LinstorError:
            raise  # Stopped (a stop signal, see cli) must stay what it is
        except Exception as error:  # pyone raises OneException, the transports their own: all end here
            raise LinstorError(
                f"oned call one.{method}{params} failed: {error}",
                cause=type(error).__name__,
                correction=f"check that oned answers at {self._config.endpoint} and the ONE_AUTH session",
            ) from None

    def vm(self, vm_id: int) -> Vm:
        """``one.vm.info``: name, disks (SOURCE, CLONE, TM_MAD, SIZE, SAVE_AS) and context disk id."""
        info = self._call("vm.info", vm_id)
        return vm_record(info.ID, info.NAME, info.TEMPLATE)

    def datastore(self, ds_id: int) -> Datastore:
        """``one.datastore.info``: the template holding the LINSTOR attributes."""
        info = self._call("datastore.info", ds_id)
        return datastore_record(info.ID, info.NAME, info.BASE_PATH, info.TM_MAD, info.TEMPLATE)

    def image_name(self, image_id: int) -> str:
        """``one.image.info``: the name a saved-as image's disk is named after."""
        return str(self._call("image.info", image_id).NAME)
