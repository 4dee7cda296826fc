"""Everything ``linstor-core`` prints: tables and SUCCESS lines for people, JSON with ``-m``.

One place decides the format so that every command behaves the same: a listing is a table (or a
JSON array of its records), a change is a ``SUCCESS:`` line (or, with ``-m``, one JSON array of
``{"message", "obj_refs"}`` entries printed when the command ends - even when a later step
failed, so a script sees what did happen), and an error goes to stderr with its cause,
correction and notes (e.g. "1 more problem in the file"; a JSON object under ``"error"`` with
``-m``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any, TextIO

from linstor_core.errors import ApiError, LinstorError
from linstor_core.tables import Cell, render_table


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return value


def to_json(value: Any) -> str:
    """``value`` (records, lists, dicts, plain values) as indented JSON, dataclasses as objects."""
    return json.dumps(_jsonable(value), indent=2, sort_keys=False)


def _error_json(error: LinstorError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type(error).__name__,
        "message": error.message,
        "cause": error.cause,
        "correction": error.correction,
    }
    if isinstance(error, ApiError):
        body["replies"] = [reply.to_json() for reply in error.replies]
    if getattr(error, "__notes__", None):
        body["notes"] = list(error.__notes__)
    return body


def _error_text(error: LinstorError) -> str:
    """``str(error)``'s parts, one per line, as a CLI user reads them."""
    lines = [f"ERROR: {error.message}"]
    if error.new_cause:
        lines.append(f"  cause:      {error.new_cause}")
    if error.correction:
        lines.append(f"  correction: {error.correction}")
    if isinstance(error, ApiError):
        lines += [f"  also:       {reply.message}" for reply in error.replies[1:] if reply.is_error]
    lines += [f"  note:       {note}" for note in getattr(error, "__notes__", ())]
    return "\n".join(lines)


class Output:
    """The formatter one command invocation writes through (text or ``machine_readable``)."""

    def __init__(self, stdout: TextIO, stderr: TextIO, *, machine_readable: bool = False,
                 ascii: bool = False) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.machine_readable = machine_readable
        self.ascii = ascii
        self._changes: list[dict[str, Any]] = []
        self._answered = False

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Cell]], records: Sequence[Any]) -> None:
        """Print ``rows`` as a table, or ``records`` (the full objects) as a JSON array."""
        self._answered = True
        if self.machine_readable:
            print(to_json(list(records)), file=self.stdout)
        else:
            print(render_table(headers, rows, ascii=self.ascii), file=self.stdout)

    def data(self, value: Any, text: str) -> None:
        """Print ``value`` as JSON with ``-m``, else the human ``text``."""
        self._answered = True
        print(to_json(value) if self.machine_readable else text, file=self.stdout)

    def success(self, message: str, **obj_refs: str) -> None:
        """Report one change that happened; ``obj_refs`` name the objects (node=, resource=...)."""
        if self.machine_readable:
            self._changes.append({"message": message, "obj_refs": obj_refs})
        else:
            print(f"SUCCESS: {message}", file=self.stdout)

    def warning(self, message: str) -> None:
        """Something asked for that did not need doing (LINSTOR's warnings); not a failure."""
        print(f"WARNING: {message}", file=self.stderr if self.machine_readable else self.stdout)

    def note(self, message: str) -> None:
        """An informational line for people (stderr with ``-m`` so stdout stays pure JSON)."""
        print(f"INFO: {message}", file=self.stderr if self.machine_readable else self.stdout)

    def error(self, error: LinstorError) -> None:
        self._answered = True  # the error is the answer: no [] that reads as "nothing changed"
        print(to_json({"error": _error_json(error)}) if self.machine_readable else _error_text(error),
              file=self.stderr)

    def finish(self) -> None:
        """Flush the collected changes as one JSON array (``-m`` only; text went out already):
        ``[]`` when a command that answers with its changes made none (a delete of something
        already gone), so stdout is always JSON for a reader such as ``jq``."""
        if self.machine_readable and (self._changes or not self._answered):
            print(to_json(self._changes), file=self.stdout)
        self._changes = []
        self._answered = True
