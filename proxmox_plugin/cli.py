"""``linstor-pve <method>``: the process the Perl shim runs for every PVE storage call.

Protocol (one call per process, so nothing is shared but the status cache file):
stdin  ``{"storeid": ..., "scfg": {storage.cfg section}, "node": ..., "args": {name: value}}``
stdout ``{"result": ...}`` and exit 0, or ``{"error": {"type": ..., "message": ...}}`` and exit 1.
Both are UTF-8 JSON, as the shim's ``JSON::PP->new->utf8`` writes and reads it: stdin is read
as bytes and decoded here, not by the locale's codec (PVE's daemons may run with none, and a
byte that is not UTF-8 would reach a file name as a lone surrogate); stdout is ASCII, with
anything else escaped (``\\u00e9``), which is UTF-8 whatever the locale.
stderr carries progress lines for PVE's task log. This is the one place errors are rendered:
no traceback ever reaches PVE. ``parse_volname`` and ``volume_has_feature`` need neither the
storage config nor a controller (PVE calls ``parse_volname`` without either).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from linstor_core.config import checked_token
from linstor_core.errors import ConfigError, InvalidInput, LinstorError
from linstor_core.stopsignals import stops_raise

from proxmox_plugin import transfer
from proxmox_plugin.options import OPTION_HELP, StorageOptions, parse_options
from proxmox_plugin.plugin import LinstorStorage, pve_parse_volname, volume_has_feature
from proxmox_plugin.statuscache import StatusCache
from proxmox_plugin.vmnames import FirstOf, PveApi, PveFiles, VmNames

if TYPE_CHECKING:
    from linstor_core.disks import DiskService

CACHE_DIR_ENV = "LINSTOR_PVE_CACHE_DIR"
DEFAULT_CACHE_DIR = "/run/linstor-pve"
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 30.0
REQUEST_BUDGET = 50.0
"""All controller requests of one ``linstor-pve`` call together: PVE kills a storage command
that holds its cluster lock for 60 s, so a hung controller (GET retries, failovers) ends the
call with a LINSTOR error first."""

_PURE: Mapping[str, Callable[..., Any]] = {
    "parse_volname": pve_parse_volname,
    "volume_has_feature": volume_has_feature,
    "volume_export_formats": transfer.export_formats,
    "volume_import_formats": transfer.import_formats,
}
_STORAGE_METHODS = frozenset({
    "alloc_image", "free_image", "list_images", "status", "check_connection", "path",
    "activate_volume", "deactivate_volume", "volume_resize", "volume_snapshot",
    "volume_rollback_is_possible", "volume_snapshot_rollback", "volume_snapshot_delete",
    "volume_size_info", "rename_volume", "create_base", "clone_image", "volume_starts_zeroed",
    "volume_export", "volume_import",
})
_UNLOCKED_METHODS = frozenset({"volume_export", "volume_import"})
"""PVE streams a disk through these without holding its storage lock, for as long as the copy
takes (this plugin takes none either: allocation copes with a racing one, see ``_place``)."""


def _token(path: str | None) -> str | None:
    """A bearer token file: ``{"token": ...}`` (LINBIT's auth.json shape) or the bare token."""
    if path is None:
        return None
    try:
        text = Path(path).read_text().strip()
    except OSError as error:
        raise ConfigError(f"cannot read the API token file {path}", cause=str(error),
                          correction="fix the storage's apitoken option") from None
    if text.startswith("{"):
        try:
            text = str(json.loads(text)["token"])
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"API token file {path} is not {{\"token\": ...}}") from None
    return checked_token(text, path) if text.strip() else None


def _tls_file(option: str, path: str | None) -> str | None:
    """A CA, certificate or key file named in storage.cfg, checked here so a wrong path is an
    error naming the option rather than a TLS library message at the first request."""
    if path is not None and not os.access(path, os.R_OK):
        raise ConfigError(f"cannot read the {option} file {path}",
                          correction=f"fix the storage's {option} option or create the file")
    return path


def connect(options: StorageOptions, *, budget: float | None = REQUEST_BUDGET) -> DiskService:
    """The disk service for the storage's controllers, TLS files and token, with short timeouts.

    The HTTP stack is imported here, not at the top: PVE runs ``parse_volname`` many times per
    operation, and those processes never talk to a controller. ``budget`` None: no limit on all
    requests together, for the calls PVE makes outside its storage lock that stream a whole
    disk (``_UNLOCKED_METHODS``), whose clean-up after a long copy must still be sent.
    """
    from linstor_core.config import load_client_config
    from linstor_core.disks import DiskService

    config = load_client_config(list(options.controllers) or None)
    config = dataclasses.replace(
        config,
        token=_token(options.token_file) or config.token,
        ca_file=_tls_file("apica", options.ca_file) or config.ca_file,
        client_cert=_tls_file("apicrt", options.client_cert) or config.client_cert,
        client_key=_tls_file("apikey", options.client_key) or config.client_key,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        budget=budget,
    )
    return DiskService.from_config(config)


def _vm_names() -> VmNames:
    api = PveApi.local()
    return FirstOf((PveFiles(), api) if api else (PveFiles(),))


def _progress(stderr: TextIO) -> Callable[[str], None]:
    def report(line: str) -> None:
        print(line, file=stderr, flush=True)
    return report


def _storage(request: Mapping[str, Any], environ: Mapping[str, str], stderr: TextIO, *,
             budget: float | None) -> LinstorStorage:
    storeid = request.get("storeid")
    if not isinstance(storeid, str) or not storeid:
        raise InvalidInput("storeid", storeid, "the storage id is required")
    node = request.get("node")
    if not isinstance(node, str) or not node:
        raise InvalidInput("node", node, "the local node name is required")
    options = parse_options(storeid, request.get("scfg") or {})
    cache = StatusCache(Path(environ.get(CACHE_DIR_ENV, DEFAULT_CACHE_DIR)), options.status_cache_seconds)
    return LinstorStorage(connect(options, budget=budget), options, node, _vm_names(), cache, _progress(stderr))


def _call(function: Callable[..., Any], method: str, args: Any) -> Any:
    if not isinstance(args, dict):
        raise InvalidInput("args", args, "must be an object of argument names to values")
    try:
        inspect.signature(function).bind(**args)
    except TypeError as error:
        raise InvalidInput("args", sorted(args), f"do not fit {method}: {error}") from None
    return function(**args)


def dispatch(method: str, request: Any, environ: Mapping[str, str], stderr: TextIO) -> Any:
    """Run one plugin method for a decoded request and return its JSON-ready result."""
    if not isinstance(request, dict):
        raise InvalidInput("request", request, "stdin must hold one JSON object")
    args = request.get("args", {})
    if method in _PURE:
        return _call(_PURE[method], method, args)
    if method not in _STORAGE_METHODS:
        raise InvalidInput("method", method, "not a storage plugin method",
                           correction="one of " + ", ".join(sorted({*_PURE, *_STORAGE_METHODS})))
    if method not in _UNLOCKED_METHODS:
        return _call(getattr(_storage(request, environ, stderr, budget=REQUEST_BUDGET), method), method, args)
    # A task abort or a tunnel torn down stops a long copy: the signal raises where the copy
    # is, so the half-imported disk is deleted, instead of ending the process there.
    with stops_raise(correction="move the disk again: the half-imported one was deleted"):
        return _call(getattr(_storage(request, environ, stderr, budget=None), method), method, args)


def _render(error: BaseException) -> dict[str, str]:
    """The JSON error the shim ``die``s with: a LINSTOR error as ``str()`` gives it (message,
    then cause and correction, each once), with its notes."""
    if isinstance(error, LinstorError):
        return {"type": type(error).__name__, "message": error.one_line()}
    if isinstance(error, OSError):
        return {"type": "OSError", "message": f"{error.strerror or error} ({error.filename or ''})"}
    return {"type": "InternalError", "message": f"linstor-pve internal error: {error!r}"}


def usage() -> str:
    """What ``linstor-pve --help`` prints: the protocol, the methods and the storage.cfg options
    (an operator's first stop; PVE itself never asks)."""
    methods = textwrap.fill(", ".join(sorted({*_PURE, *_STORAGE_METHODS})), 96,
                            initial_indent="methods: ", subsequent_indent="  ")
    options = "\n".join(f"  {name:<14}{text}" for name, text in OPTION_HELP.items())
    return (
        "usage: linstor-pve <method>  (request JSON on stdin)\n\n"
        "Run by the Proxmox VE storage plugin PVE::Storage::Custom::LINSTORPlugin (storage type\n"
        "'linstor') for every storage call. stdin: {\"storeid\", \"scfg\", \"node\", \"args\"};\n"
        "stdout: {\"result\": ...} and exit 0, or {\"error\": {\"type\", \"message\"}} and exit 1;\n"
        "stderr: progress lines for the PVE task log.\n"
        f"Controller requests: {CONNECT_TIMEOUT:g} s to connect, {READ_TIMEOUT:g} s for an answer, "
        f"{REQUEST_BUDGET:g} s for all of one call\n"
        "together, so a call ends with a LINSTOR error inside PVE's 60 s storage lock (not for\n"
        "volume_export and volume_import, which stream the raw+size format on the descriptor\n"
        "args.data_fd for as long as the copy takes).\n\n"
        f"{methods}\n\n"
        f"storage.cfg options (besides PVE's content, nodes, shared, disable, bwlimit):\n{options}\n\n"
        f"environment: {CACHE_DIR_ENV} (status cache directory, default {DEFAULT_CACHE_DIR})\n"
    )


def _request(stdin: BinaryIO) -> Any:
    """The request on stdin: UTF-8 JSON (an empty stdin is an empty request)."""
    try:
        return json.loads(stdin.read().decode("utf-8") or "{}")
    except UnicodeDecodeError as error:
        raise InvalidInput("request", "stdin", f"not UTF-8: {error}",
                           correction="send the request as UTF-8 JSON (JSON::PP->new->utf8)") from None
    except ValueError as error:
        raise InvalidInput("request", "stdin", f"not JSON: {error}") from None


def main(argv: Sequence[str] | None = None, *, stdin: BinaryIO | None = None, stdout: TextIO = sys.stdout,
         stderr: TextIO = sys.stderr, environ: Mapping[str, str] = os.environ) -> int:
    """Entry point of the console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["-h"], ["--help"]):
        stdout.write(usage())
        return 0
    try:
        if len(args) != 1:
            raise InvalidInput("arguments", args, "usage: linstor-pve <method>  (request JSON on stdin)")
        result = dispatch(args[0], _request(stdin or sys.stdin.buffer), environ, stderr)
    except Exception as error:  # the edge: every failure becomes one JSON error, never a traceback
        json.dump({"error": _render(error)}, stdout)
        stdout.write("\n")
        return 1
    json.dump({"result": result}, stdout)
    stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
