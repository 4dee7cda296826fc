"""ApiCallRc replies: the one place the controller turns outcomes and errors into LINSTOR's shape.

Success and error entries carry the operation and object masks of the request (``MASK_CRT |
MASK_RSC_DFN`` ...) as LINSTOR's do, so real LINSTOR clients classify them the same way. HTTP
statuses follow the spec's declared responses: 201 for creations, 200 otherwise, 400 for
invalid input, 404 for a missing object, 500 for every other refusal (LINSTOR's
"OperationFailed").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from linstor_core import retcodes as rc
from linstor_core.errors import (AlreadyExists, ApiError, ApiReply, InUse, InvalidInput,
                                 LinstorError, NotFound, StorageError)

_INVALID_CODES = frozenset({
    rc.FAIL_INVLD_NODE_NAME, rc.FAIL_INVLD_RSC_NAME, rc.FAIL_INVLD_VLM_NR, rc.FAIL_INVLD_VLM_SIZE,
    rc.FAIL_INVLD_STOR_POOL_NAME, rc.FAIL_INVLD_NET_ADDR, rc.FAIL_INVLD_PROP,
    rc.FAIL_INVLD_SNAPSHOT_NAME, rc.FAIL_INVLD_PLACE_COUNT, rc.FAIL_INVLD_STOR_DRIVER,
    rc.FAIL_INVLD_LAYER_KIND, rc.FAIL_INVLD_LAYER_STACK, rc.FAIL_INVLD_PROVIDER,
    rc.FAIL_INVLD_REQUEST,
    rc.FAIL_INVLD_RSC_GRP_NAME, rc.API_CALL_PARSE_ERROR,
})

# InvalidInput.field (as linstor_core.naming / units name them) -> LINSTOR's code for it.
_FIELD_CODES = {
    "node": rc.FAIL_INVLD_NODE_NAME, "node_name": rc.FAIL_INVLD_NODE_NAME,
    "resource": rc.FAIL_INVLD_RSC_NAME, "resource_name": rc.FAIL_INVLD_RSC_NAME,
    "resource_definition": rc.FAIL_INVLD_RSC_NAME,
    "resource_group": rc.FAIL_INVLD_RSC_GRP_NAME, "resource_group_name": rc.FAIL_INVLD_RSC_GRP_NAME,
    "storage_pool": rc.FAIL_INVLD_STOR_POOL_NAME, "storage_pool_name": rc.FAIL_INVLD_STOR_POOL_NAME,
    "snapshot": rc.FAIL_INVLD_SNAPSHOT_NAME, "snapshot_name": rc.FAIL_INVLD_SNAPSHOT_NAME,
    "size": rc.FAIL_INVLD_VLM_SIZE, "size_kib": rc.FAIL_INVLD_VLM_SIZE,
    "volume_number": rc.FAIL_INVLD_VLM_NR, "address": rc.FAIL_INVLD_NET_ADDR,
    "place_count": rc.FAIL_INVLD_PLACE_COUNT, "provider_kind": rc.FAIL_INVLD_STOR_DRIVER,
    "layer_list": rc.FAIL_INVLD_LAYER_STACK, "props": rc.FAIL_INVLD_PROP,
}


def refuse(code: int, message: str, *, cause: str = "", correction: str = "",
           details: str = "") -> ApiError:
    """The exception for a refusal with LINSTOR ret code ``code`` (raise what this returns)."""
    reply = ApiReply(ret_code=code, message=message, cause=cause, correction=correction,
                     details=details)
    code_part = rc.code_of(code)
    if code_part in rc.NOT_FOUND_CODES:
        return NotFound([reply], status=404)
    if code_part in rc.EXISTS_CODES:
        return AlreadyExists([reply], status=500)
    if code_part in rc.IN_USE_CODES:
        return InUse([reply], status=500)
    if code in _INVALID_CODES or code_part in _INVALID_CODES:
        return ApiError([reply], status=400)
    return ApiError([reply], status=500)


def entry(code: int, message: str, *, mask: int = 0, obj_refs: Mapping[str, str] | None = None,
          details: str = "") -> dict[str, Any]:
    """One ApiCallRc JSON entry with the request's masks applied."""
    return ApiReply(ret_code=code | mask, message=message, details=details,
                    obj_refs=dict(obj_refs or {})).to_json()


def error_body(exc: BaseException, mask: int) -> tuple[int, list[dict[str, Any]]]:
    """(HTTP status, ApiCallRc list) for any exception a route let through; each note on it
    (an undo that failed too, see ``Controller.change``) follows as a warning, so the client
    learns what the failed request left behind."""
    status, replies = _error_replies(exc, mask)
    notes = [_masked(ApiReply(rc.WARN_STORAGE_ERROR, note), mask) for note in getattr(exc, "__notes__", ())]
    return status, replies + notes


def _error_replies(exc: BaseException, mask: int) -> tuple[int, list[dict[str, Any]]]:
    if isinstance(exc, ApiError):
        status = exc.status or 500
        return status, [_masked(r, mask) for r in exc.replies]
    if isinstance(exc, InvalidInput):
        code = _FIELD_CODES.get(exc.field.replace(" ", "_"), rc.FAIL_INVLD_REQUEST)
        reply = ApiReply(code, exc.message, cause=exc.cause, correction=exc.correction)
        return 400, [_masked(reply, mask)]
    if isinstance(exc, StorageError):
        reply = ApiReply(rc.FAIL_UNKNOWN_ERROR, exc.message, cause=exc.cause,
                         details=exc.stderr.strip(), correction=exc.correction)
        return 500, [_masked(reply, mask)]
    if isinstance(exc, LinstorError):
        reply = ApiReply(rc.FAIL_UNKNOWN_ERROR, exc.message, cause=exc.cause,
                         correction=exc.correction)
        return 500, [_masked(reply, mask)]
    reply = ApiReply(rc.FAIL_IMPL_ERROR, f"Internal error: {type(exc).__name__}: {exc}")
    return 500, [_masked(reply, mask)]


def _masked(reply: ApiReply, mask: int) -> dict[str, Any]:
    body = reply.to_json()
    body["ret_code"] = reply.ret_code | mask
    return body
