"""What the action arguments do not carry, asked from oned over XML-RPC with pyone.

TM actions get ids only; a VM's name (disks are named after it), its disks' SOURCE/CLONE and a
datastore's template come from ``one.vm.info`` / ``one.datastore.info`` / ``one.image.info``.
The endpoint and credentials are oned's own conventions for its drivers: ``ONE_XMLRPC`` and the
``ONE_AUTH`` file (default ``~/.one/one_auth``, ``user:password``). pyone is imported on first
use: actions that need no lookup do not pay for loading it.

pyone sends each call (session, transport) through its request hook, ``_do_request``, the
interface its own test recorder builds on, and the XML in oned's answer is read by
:mod:`opennebula_driver.xmldoc`, as the documents oned hands the driver directly are. pyone's
generated bindings, which it would build from the same XML, cost 0.3-0.4 ms a lookup, and the
driver reads a handful of fields. The actions that make a VM's disk need the VM and the
datastore: both go in one ``system.multicall`` round trip (``vm_and_datastore``).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
import xmlrpc.client
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linstor_core.errors import ConfigError, LinstorError
from opennebula_driver.records import Datastore, Vm
from opennebula_driver.xmldoc import datastore_from, parse_xml, required_int, text_at, vm_from

DEFAULT_ENDPOINT = "http://localhost:2633/RPC2"
TIMEOUT_SECONDS = 30.0
NO_EXISTS = 0x0400
ONED_ERRORS = {0x0100: "AUTHENTICATION", 0x0200: "AUTHORIZATION", NO_EXISTS: "NO_EXISTS", 0x0800: "ACTION",
               0x1000: "XML_RPC_API", 0x2000: "INTERNAL"}
"""oned's error codes (the third element of a failed answer), by the names its API reference uses."""
MULTICALL = "system.multicall"
VMS_PER_ROUND_TRIP = 50
"""VMs asked for in one ``system.multicall``: a VM's XML is some tens of KB, so a shared image's
hundreds of users come in bounded answers."""


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
    _check_xmlrpc(endpoint)
    import pyone

    server = pyone.OneServer(endpoint, session=session, timeout=TIMEOUT_SECONDS)
    if _plain_http_without_proxy(endpoint):
        # pyone posts each call with requests.post: a new session that reads the environment's
        # proxy settings again, about 1 ms of a 2 ms lookup. For plain http with no proxy
        # applying, the standard library's transport sends the same request on http.client,
        # keeping the connection when oned does. Its sockets also honour the default timeout
        # pyone's constructor sets (TIMEOUT_SECONDS), which pyone's transport does not.
        # HTTPS and proxied endpoints keep pyone's transport: its certificates, its proxies.
        server._ServerProxy__transport = _Transport()
    return server


class _Transport(xmlrpc.client.Transport):
    """The standard library's transport, asking for answers uncompressed (oned is on the
    front-end or next to it, its answers are a few KiB: compressing and inflating them costs both
    ends more than it saves on such a link), and reading them with expat's text buffered. The
    documents oned answers with are XML inside a string, every ``<`` of it an entity, and
    unbuffered expat hands each piece between two entities to the unmarshaller on its own:
    hundreds of calls for one VM."""

    accept_gzip_encoding = False

    def getparser(self) -> tuple[Any, Any]:
        parser, unmarshaller = super().getparser()
        expat_parser = getattr(parser, "_parser", None)
        if expat_parser is not None:
            expat_parser.buffer_text = True
        return parser, unmarshaller


def _check_xmlrpc(endpoint: str) -> None:
    """Refuse what would make pyone (7 and later) build its gRPC client: the driver reads
    oned's XML-RPC answers, and ``ONE_XMLRPC`` names that endpoint."""
    if not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"ONE_XMLRPC is {endpoint!r}, not an http:// or https:// URL",
                          cause="the driver asks oned over XML-RPC",
                          correction="set ONE_XMLRPC to oned's XML-RPC URL, e.g. http://localhost:2633/RPC2")
    protocol = os.environ.get("ONEAPI_PROTOCOL") or "xmlrpc"  # empty counts as unset, as for pyone
    if protocol.lower() != "xmlrpc":
        raise ConfigError(f"ONEAPI_PROTOCOL is {protocol!r}", cause="the driver asks oned over XML-RPC",
                          correction="unset ONEAPI_PROTOCOL in oned's driver environment, or set it to xmlrpc")


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

    def _server_proxy(self) -> Any:
        if self._server is None:
            self._server = self._factory(self._config.endpoint, _read_session(self._config.auth_file))
        return self._server

    def _send(self, call: str, method: str, params: tuple[Any, ...]) -> Any:
        """oned's answer to ``method``: sent by pyone's request hook (its transport); a
        failure to get one is a LinstorError naming ``call``."""
        try:
            return self._server_proxy()._do_request(method, params)
        except LinstorError:
            raise  # Stopped (a stop signal, see cli) must stay what it is
        except Exception as error:  # pyone raises OneException, the transports their own: all end here
            raise self._failed(call, str(error), type(error).__name__) from None

    def _call(self, kind: str, object_id: int) -> ET.Element:
        """The ``kind`` object (``vm``, ``datastore``, ``image``) oned answers ``one.<kind>.info``
        for ``object_id`` with, as parsed XML whose root element is checked (``VM``...)."""
        method = f"one.{kind}.info"
        answer = self._send(f"{method}({object_id})", method, self._server_proxy()._cast_parms((object_id,)))
        return self._checked(kind, object_id, answer)

    def _many(self, lookups: Sequence[tuple[str, int]], *, missing_ok: bool = False) -> list[ET.Element | None]:
        """Several ``info`` lookups in one round trip: ``system.multicall``, which the XML-RPC
        library oned is built on (xmlrpc-c) serves beside oned's own methods. An endpoint that
        refuses it (a proxy passing only ``one.*``) answers with a fault, and the lookups are
        then sent one by one; any other failure is reported as it is."""
        server = self._server_proxy()
        calls = [{"methodName": f"one.{kind}.info", "params": list(server._cast_parms((object_id,)))}
                 for kind, object_id in lookups]
        try:
            answers = server._do_request(MULTICALL, (calls,))
        except LinstorError:
            raise
        except Exception as error:
            if _is_fault(error):
                return [_unless_missing(lambda: self._call(kind, object_id), missing_ok)
                        for kind, object_id in lookups]
            listed = ", ".join(f"{kind} {object_id}" for kind, object_id in lookups[:3])
            more = f" and {len(lookups) - 3} more" if len(lookups) > 3 else ""
            raise self._failed(f"{MULTICALL}({listed}{more})", str(error), type(error).__name__) from None
        if not isinstance(answers, (list, tuple)) or len(answers) != len(lookups):
            raise self._failed(MULTICALL, f"unexpected answer {answers!r:.80}", "not one answer per call")
        return [_unless_missing(lambda: self._result(kind, object_id, answer), missing_ok)
                for (kind, object_id), answer in zip(lookups, answers)]

    def _result(self, kind: str, object_id: int, result: Any) -> ET.Element:
        """One call's part of a ``system.multicall`` answer: ``[value]``, or a fault struct."""
        if isinstance(result, dict) and "faultString" in result:
            raise self._failed(f"one.{kind}.info({object_id})", str(result["faultString"]),
                               f"XML-RPC fault {result.get('faultCode')}")
        if not isinstance(result, (list, tuple)) or len(result) != 1:
            raise self._failed(MULTICALL, f"unexpected result {result!r:.80}", "not [value] or a fault")
        return self._checked(kind, object_id, result[0])

    def _checked(self, kind: str, object_id: int, answer: Any) -> ET.Element:
        """oned's ``[success, body, error code, ...]`` for ``one.<kind>.info(object_id)``: the
        body's XML, parsed and its root checked, or a LinstorError naming oned's reason."""
        method = f"one.{kind}.info"
        call = f"{method}({object_id})"
        if not isinstance(answer, (list, tuple)) or len(answer) < 2:
            raise self._failed(call, f"unexpected answer {answer!r:.80}", "not oned's [success, body, code]")
        if answer[0] is not True:
            code = answer[2] if len(answer) > 2 and isinstance(answer[2], int) else None
            if code == NO_EXISTS:
                raise _Missing(f"oned call {call} failed: {answer[1]}", cause="NO_EXISTS",
                               correction=f"check that {kind} {object_id} still exists (one{kind} show {object_id})")
            raise self._failed(call, str(answer[1]), ONED_ERRORS.get(code, f"oned error code {code}"))
        if not isinstance(answer[1], str):
            raise self._failed(call, f"unexpected body {answer[1]!r:.80}", "oned answers info calls with XML")
        root = parse_xml(answer[1].encode(), f"oned's answer to {call}")
        if root.tag != kind.upper():
            raise self._failed(call, f"the answer is a {root.tag} document", f"{method} answers with {kind.upper()}")
        return root

    def _failed(self, call: str, reason: str, cause: str, correction: str = "") -> LinstorError:
        return LinstorError(
            f"oned call {call} failed: {reason}", cause=cause,
            correction=correction or f"check that oned answers at {self._config.endpoint} and the ONE_AUTH session",
        )

    def vm(self, vm_id: int) -> Vm:
        """``one.vm.info``: name, state, hosts, disks (SOURCE, CLONE, TM_MAD, SIZE, SAVE_AS) and
        context disk id."""
        return vm_from(self._call("vm", vm_id))

    def datastore(self, ds_id: int) -> Datastore:
        """``one.datastore.info``: the template holding the LINSTOR attributes."""
        return datastore_from(self._call("datastore", ds_id))

    def vm_and_datastore(self, vm_id: int, ds_id: int) -> tuple[Vm, Datastore]:
        """``vm`` and ``datastore`` together, in one round trip to oned where it allows."""
        vm_root, datastore_root = self._many([("vm", vm_id), ("datastore", ds_id)])
        return vm_from(_known(vm_root)), datastore_from(_known(datastore_root))

    def image_name(self, image_id: int) -> str:
        """``one.image.info``: the name a saved-as image's disk is named after."""
        return text_at(self._call("image", image_id), "NAME")

    def image_users(self, image_id: int) -> tuple[int, ...]:
        """``one.image.info``: the ids of the VMs that use the image (``IMAGE/VMS/ID``); none
        when oned no longer knows the image."""
        try:
            image = self._call("image", image_id)
        except _Missing:
            return ()
        return tuple(required_int(found.text, "IMAGE/VMS/ID") for found in image.findall("VMS/ID"))

    def vms(self, vm_ids: Sequence[int]) -> Iterator[Vm]:
        """``one.vm.info`` of each of ``vm_ids`` that oned still knows, ``VMS_PER_ROUND_TRIP``
        in each round trip, yielded as they come (a caller looking for one may stop early)."""
        for start in range(0, len(vm_ids), VMS_PER_ROUND_TRIP):
            chunk = vm_ids[start:start + VMS_PER_ROUND_TRIP]
            for root in self._many([("vm", vm_id) for vm_id in chunk], missing_ok=True):
                if root is not None:
                    yield vm_from(root)


class _Missing(LinstorError):
    """oned does not know the object (``NO_EXISTS``)."""


def _unless_missing(lookup: Callable[[], ET.Element], missing_ok: bool) -> ET.Element | None:
    """``lookup()``; with ``missing_ok``, None for an object oned does not know."""
    try:
        return lookup()
    except _Missing:
        if missing_ok:
            return None
        raise


def _known(element: ET.Element | None) -> ET.Element:
    """An element of a ``_many`` answer asked without ``missing_ok``, which is never None."""
    if element is None:
        raise AssertionError("_many answered None without missing_ok")
    return element


def _is_fault(error: Exception) -> bool:
    """Whether the endpoint answered with an XML-RPC fault: pyone turns ``xmlrpc.client.Fault``
    into ``OneException``, keeping its text (``<Fault -506: ...>``)."""
    return isinstance(error, xmlrpc.client.Fault) or str(error).startswith("<Fault ")
