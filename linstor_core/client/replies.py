"""Turn a controller's HTTP answer into a result or one of ``linstor_core.errors``' ApiErrors.

LINSTOR answers mutations with an ApiCallRc list and reports failures as such a list with an
error status. The mapping, first match wins:

* an error reply with a ``NOT_FOUND`` code, or HTTP 404 -> NotFound
* an error reply with an ``EXISTS`` code -> AlreadyExists, except on a delete, where LINSTOR
  uses it for "a dependent still exists" (a definition with snapshots) -> InUse
* an error reply with ``FAIL_IN_USE`` / ``FAIL_RSC_BUSY`` -> InUse
* any other error reply or error status -> ApiError

An error status whose body is not an ApiCallRc list (an HTML page from a proxy, plain text)
still becomes an ApiError carrying the HTTP status and the start of the body.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from linstor_core import retcodes
from linstor_core.errors import AlreadyExists, ApiError, ApiReply, InUse, NotFound

BODY_EXCERPT = 200


def json_body(response: requests.Response) -> Any:
    """The parsed JSON of a successful answer; raises the matching ApiError otherwise.

    A successful answer that is an ApiCallRc list with an error in it raises as well.
    """
    parsed = _parse(response)
    replies = _as_replies(parsed)
    if response.status_code >= 400 or (replies and any(r.is_error for r in replies)):
        raise error_for(replies or [_status_reply(response)], response.status_code)
    if parsed is _NOT_JSON:
        raise ApiError([_status_reply(response, "the answer is not JSON")],
                       status=response.status_code)
    return parsed


def api_replies(response: requests.Response) -> list[ApiReply]:
    """The ApiCallRc list of a successful mutation (empty when the body is empty)."""
    if not response.content.strip() and response.status_code < 400:
        return []
    replies = _as_replies(json_body(response))
    if replies is None:
        raise ApiError([_status_reply(response, "the answer is not an ApiCallRc list")],
                       status=response.status_code)
    return replies


def check_status(response: requests.Response) -> None:
    """Raise the matching ApiError for an error status; any success passes, whatever its body."""
    if response.status_code >= 400:
        parsed = _as_replies(_parse(response))
        raise error_for(parsed or [_status_reply(response)], response.status_code)


def found(replies: Sequence[ApiReply]) -> bool:
    """False when a delete's answer is LINSTOR's "not found" warning: there was nothing to
    delete (LINSTOR answers that with HTTP 200, not an error)."""
    return not any(retcodes.code_of(r.ret_code) == retcodes.WARN_NOT_FOUND for r in replies)


def raise_errors(replies: Sequence[ApiReply], status: int) -> None:
    """Raise the matching ApiError when ``replies`` (nested in a larger answer) hold an error."""
    if any(r.is_error for r in replies):
        raise error_for(replies, status)


def error_for(replies: Sequence[ApiReply], status: int) -> ApiError:
    """The ApiError subclass for ``replies`` and the HTTP ``status`` (see the module docstring)."""
    for reply in (r for r in replies if r.is_error):
        code = retcodes.code_of(reply.ret_code)
        if code in retcodes.NOT_FOUND_CODES:
            return NotFound(replies, status=status)
        if code in retcodes.EXISTS_CODES:
            if retcodes.is_delete(reply.ret_code):
                return InUse(replies, status=status)
            return AlreadyExists(replies, status=status)
        if code in retcodes.IN_USE_CODES:
            return InUse(replies, status=status)
    if status == 404:
        return NotFound(replies, status=status)
    return ApiError(replies, status=status)


_NOT_JSON = object()


def _parse(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return _NOT_JSON


def _as_replies(parsed: Any) -> list[ApiReply] | None:
    """The replies when ``parsed`` is an ApiCallRc list, else None."""
    if not isinstance(parsed, list) or not all(
        isinstance(entry, dict) and "ret_code" in entry for entry in parsed
    ):
        return None
    return [ApiReply.from_json(entry) for entry in parsed]


def _status_reply(response: requests.Response, problem: str = "") -> ApiReply:
    """A synthetic error reply for an answer that carries no usable ApiCallRc list."""
    text = response.text.strip()
    excerpt = text[:BODY_EXCERPT] + ("..." if len(text) > BODY_EXCERPT else "")
    method = response.request.method if response.request is not None else "?"
    return ApiReply(
        ret_code=retcodes.FAIL_UNKNOWN_ERROR,
        message=f"HTTP {response.status_code} {response.reason or ''}".rstrip()
        + f" from {method} {response.url}" + (f": {problem}" if problem else ""),
        cause=excerpt,
        correction="check that the URL points at a LINSTOR controller's REST API",
    )
