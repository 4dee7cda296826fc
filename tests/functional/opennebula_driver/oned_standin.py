"""A small oned stand-in: real XML-RPC on loopback answering ``one.*.info`` like oned does.

oned answers every call with ``[success, body, error_code]`` (and a 4th/5th element on newer
versions); the body of ``info`` calls is the object's XML. Only what the driver asks is served;
an unknown id answers oned's NO_EXISTS error (0x0400), a wrong session AUTHENTICATION (0x0100).
``system.multicall`` is served as oned's XML-RPC library (xmlrpc-c) serves it, unless
``multicall=False`` makes the stand-in an endpoint that refuses it (a fault, as xmlrpc-c gives
for an unknown method).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

NO_EXISTS = 0x0400
AUTHENTICATION = 0x0100


class _QuietHandler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/RPC2",)

    def log_message(self, format: str, *args: object) -> None:
        return None

    def decode_request_content(self, data: bytes) -> bytes | None:
        self.server.user_agents.append(self.headers.get("User-Agent", ""))  # type: ignore[attr-defined]
        self.server.encodings.append(self.headers.get("Accept-Encoding", ""))  # type: ignore[attr-defined]
        self.server.standin.requests += 1  # type: ignore[attr-defined]
        return super().decode_request_content(data)


@dataclass
class OnedStandIn:
    session: str = "oneadmin:secret"
    vms: dict[int, str] = field(default_factory=dict)
    datastores: dict[int, str] = field(default_factory=dict)
    images: dict[int, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    multicall: bool = True
    requests: int = 0
    """HTTP requests served: one per round trip."""
    user_agents: list[str] = field(default_factory=list)
    encodings: list[str] = field(default_factory=list)
    """The Accept-Encoding of each request, as the User-Agent above."""
    """The User-Agent of each request: which transport the client used."""

    def _answer(self, method: str, table: dict[int, str], session: str, object_id: int) -> list[object]:
        self.calls.append(f"{method} {object_id}")
        if session != self.session:
            return [False, f"[{method}] User couldn't be authenticated, aborting call.", AUTHENTICATION]
        if object_id not in table:
            return [False, f"[{method}] Error getting object [{object_id}].", NO_EXISTS]
        return [True, table[object_id], 0]

    def start(self) -> "OnedStandIn":
        self._server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=_QuietHandler, allow_none=True,
                                          logRequests=False)
        self._server.user_agents = self.user_agents  # type: ignore[attr-defined]
        self._server.encodings = self.encodings  # type: ignore[attr-defined]
        self._server.standin = self  # type: ignore[attr-defined]
        if self.multicall:
            self._server.register_multicall_functions()
        for method, table in (("one.vm.info", self.vms), ("one.datastore.info", self.datastores),
                              ("one.image.info", self.images)):
            self._server.register_function(
                lambda session, object_id, *rest, m=method, t=table: self._answer(m, t, session, object_id), method
            )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/RPC2"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
