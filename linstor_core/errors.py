"""The bundle's one exception hierarchy.

Every error carries what failed (``message``), why (``cause``) and what the operator can do about
it (``correction``), so that each edge can render it once in its own way: the PVE shim ``die``s,
OpenNebula prints to stderr and exits 1, Docker answers ``{"Err": ...}``, the embedded controller
answers an ApiCallRc list.

::

    LinstorError
    ├── ConfigError            bad or missing configuration (controllers, TLS, token, files)
    ├── InvalidInput           a bad name, size, profile, volname, XML, JSON: names the field
    ├── ControllerUnreachable  every configured controller was tried and none answered
    ├── ApiError               the controller refused; carries the ApiCallRc replies
    │   ├── NotFound
    │   ├── AlreadyExists
    │   └── InUse              delete blocked by snapshots, clones, an open device, a mount
    └── StorageError           a storage command failed: argv, exit code, stderr
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


class LinstorError(Exception):
    """Root of the hierarchy: a message a person can act on, with its cause and fix."""

    def __init__(self, message: str, *, cause: str = "", correction: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause
        self.correction = correction

    @property
    def new_cause(self) -> str:
        """The cause when it adds something to the message, else "": every edge shows the same."""
        return self.cause if self.cause and self.cause not in self.message else ""

    def one_line(self) -> str:
        """``str()`` and the notes on the error (a clean-up that failed too, the disks a
        migration step failed on as well), for the edges that answer with one line: Docker's
        ``Err``, OpenNebula's stderr, the PVE shim's ``die``."""
        return _joined([str(self), *getattr(self, "__notes__", ())])

    def __str__(self) -> str:
        parts = [self.message]
        if self.new_cause:
            parts.append(f"cause: {self.new_cause}")
        if self.correction:
            parts.append(f"correction: {self.correction}")
        return _joined(parts)


def _joined(parts: list[str]) -> str:
    """Parts on one line joined by ``; ``, without the full stop LINSTOR ends its messages with
    before each joint (``not found; correction: ...``, never ``not found.; correction``)."""
    return "; ".join([part.removesuffix(".") for part in parts[:-1]] + parts[-1:])


class ConfigError(LinstorError):
    """The configuration cannot be used as it is (unknown URI scheme, missing CA file, ...)."""


class InvalidInput(LinstorError):
    """Input refused before anything changed; says which field, what value and why."""

    def __init__(self, field: str, value: object, reason: str, *, correction: str = "") -> None:
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"invalid {field} {shown}: {reason}", correction=correction)
        self.field = field
        self.value = value
        self.reason = reason


class Stopped(LinstorError):
    """A signal stopped the work (SIGTERM: a platform's action timeout; SIGHUP; Ctrl-C), raised
    where the work was so that its clean-up runs before the process ends."""


class ControllerUnreachable(LinstorError):
    """No configured controller answered; ``tried`` lists each URL with its failure."""

    def __init__(self, tried: Sequence[tuple[str, str]]) -> None:
        listing = ", ".join(f"{url} ({why})" for url, why in tried) or "none configured"
        untrusted = any("CERTIFICATE_VERIFY_FAILED" in why for _, why in tried)
        super().__init__(
            f"no LINSTOR controller reachable; tried {listing}",
            correction=("trust the controller's certificate: set LS_ROOT_CA (cafile= in linstor-client.conf) "
                        "to the CA that signed it, or add that CA to the system's") if untrusted else
            "start the controller (linstor-core controller) or fix LS_CONTROLLERS / the controllers setting",
        )
        self.tried = list(tried)


@dataclass(frozen=True)
class ApiReply:
    """One ApiCallRc entry as LINSTOR returns it (``ret_code`` is the masked number)."""

    ret_code: int
    message: str
    cause: str = ""
    details: str = ""
    correction: str = ""
    obj_refs: Mapping[str, str] = field(default_factory=dict)
    error_report_ids: tuple[str, ...] = ()
    """The controller's error reports about this reply (``linstor error-reports show ID``)."""

    @property
    def is_error(self) -> bool:
        """Both top bits set (``MASK_ERROR``); a warning (only the top bit) is not an error."""
        return (self.ret_code >> 62) & 3 == 3

    @property
    def is_warning(self) -> bool:
        """Only the top bit set (``MASK_WARN``)."""
        return (self.ret_code >> 62) & 3 == 2

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> "ApiReply":
        return cls(
            ret_code=int(entry.get("ret_code", 0)),
            message=str(entry.get("message", "")),
            cause=str(entry.get("cause", "") or ""),
            details=str(entry.get("details", "") or ""),
            correction=str(entry.get("correction", "") or ""),
            obj_refs=dict(entry.get("obj_refs") or {}),
            error_report_ids=tuple(str(i) for i in entry.get("error_report_ids") or () if i),
        )

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ret_code": self.ret_code, "message": self.message}
        for key in ("cause", "details", "correction"):
            value = getattr(self, key)
            if value:
                body[key] = value
        if self.obj_refs:
            body["obj_refs"] = dict(self.obj_refs)
        if self.error_report_ids:
            body["error_report_ids"] = list(self.error_report_ids)
        return body


class ApiError(LinstorError):
    """The controller answered with error replies; the first error names the message."""

    def __init__(self, replies: Sequence[ApiReply], *, status: int = 0) -> None:
        errors = [r for r in replies if r.is_error] or list(replies)
        first = errors[0] if errors else ApiReply(ret_code=-1, message="unknown API error")
        correction = first.correction
        if first.error_report_ids:  # the only lead for an internal error (FAIL_IMPL_ERROR)
            reports = "; ".join(f"linstor error-reports show {report}" for report in first.error_report_ids)
            correction = f"{correction.removesuffix('.')}; details: {reports}" if correction else f"details: {reports}"
        super().__init__(first.message, cause=first.cause, correction=correction)
        for warning in (r for r in replies if r.is_warning):  # what the failed request left behind
            self.add_note(warning.message)
        self.replies = list(replies)
        self.status = status


class NotFound(ApiError):
    """The object does not exist (HTTP 404 or a LINSTOR ``NOT_FOUND`` reply)."""


class AlreadyExists(ApiError):
    """An object of that name already exists (LINSTOR ``EXISTS`` replies)."""


class InUse(ApiError):
    """Refused because something still depends on the object (snapshots, clones, mounts)."""


class StorageError(LinstorError):
    """A storage command failed; keeps the argument list, exit code and stderr."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str, *, correction: str = "") -> None:
        detail = _stderr_summary(stderr)
        super().__init__(
            f"command {argv[0] if argv else '?'} failed with exit code {returncode}: {detail}",
            cause=" ".join(argv),
            correction=correction,
        )
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr


@contextmanager
def noted_on(error: BaseException, what: str) -> Iterator[None]:
    """A clean-up after ``error``: if it fails too, that becomes a note on ``error``
    (``"<what> failed too: ..."``) instead of hiding the failure being cleaned up after."""
    try:
        yield
    except LinstorError as cleanup:
        error.add_note(f"{what} failed too: {cleanup}")


def _stderr_summary(stderr: str, limit: int = 300) -> str:
    """All of stderr on one line, shortened: tools put the reason on the first line (mkfs.xfs)
    or the last (losetup), so neither line alone is enough."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    if not lines:
        return "no error output"
    text = " / ".join(lines)
    return text if len(text) <= limit else text[: limit - 3] + "..."


__all__ = [
    "LinstorError",
    "ConfigError",
    "InvalidInput",
    "Stopped",
    "ControllerUnreachable",
    "ApiReply",
    "ApiError",
    "NotFound",
    "AlreadyExists",
    "InUse",
    "StorageError",
    "noted_on",
]
