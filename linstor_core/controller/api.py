"""The Flask application: REST v1 routes (one blueprint per REST area), auth, error rendering.

Promises: every answer is JSON (but ``GET /metrics``: Prometheus text, see ``metrics``); every
error (unknown path or method, bad JSON, a refusal, a bug) is an ApiCallRc list with a LINSTOR
ret code, never an HTML page or a traceback; when a token is configured every route needs
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from linstor_core import retcodes as rc
from linstor_core.controller.core import Controller
from linstor_core.controller.replies import entry, error_body, refuse

log = logging.getLogger(__name__)

_EXTENSION = "linstor_core.controller"


def create_app(controller: Controller, *, token: str | None = None) -> Flask:
    """The WSGI app serving ``controller`` (already opened)."""
    from linstor_core.controller import metrics
    from linstor_core.controller.routes import (definitions, groups, nodes, resources,
                                                snapshots)

    app = Flask("linstor_core.controller")
    app.extensions[_EXTENSION] = controller
    app.config["LINSTOR_TOKEN"] = token
    for module in (nodes, groups, definitions, resources, snapshots):
        app.register_blueprint(module.blueprint)
    metrics.install(app, controller)
    app.before_request(_check_token)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _error)
    return app


def controller() -> Controller:
    ctl: Controller = current_app.extensions[_EXTENSION]
    return ctl


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":"), check_circular=False), status=status,
                    mimetype="application/json")


def json_text_response(text: str, status: int = 200) -> Response:
    """An answer whose JSON is already encoded (the resource renderer's texts)."""
    return Response(text, status=status, mimetype="application/json")


def json_list_response(texts: Sequence[str]) -> Response:
    """A JSON array of already-encoded items."""
    return json_text_response("[" + ",".join(texts) + "]")


def _parsed() -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise refuse(rc.API_CALL_PARSE_ERROR, f"The request body is not valid JSON: {exc}",
                     correction="Send JSON as in the LINSTOR REST API.") from None
    except RecursionError:
        # Python's parser recurses per nesting level; no LINSTOR body nests that deep.
        raise refuse(rc.API_CALL_PARSE_ERROR, "The request body is not valid JSON: it is "
                     "nested too deeply.", correction="Send JSON as in the LINSTOR REST API."
                     ) from None


def body() -> dict[str, Any]:
    """The request's JSON object (``{}`` when empty); a parse error is a 400 ApiCallRc."""
    parsed = _parsed()
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise refuse(rc.API_CALL_PARSE_ERROR, "The request body must be a JSON object.")
    return parsed


def body_list() -> list[Any]:
    """The request's JSON array (routes that take a list of objects)."""
    parsed = _parsed()
    if not isinstance(parsed, list):
        raise refuse(rc.API_CALL_PARSE_ERROR, "The request body must be a JSON array.")
    return parsed


def field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None,
          *, required: bool = False) -> Any:
    """``data[name]`` checked against ``kind``; a wrong type is a 400, not a 500."""
    value = data.get(name, default)
    if value is None:
        if required:
            raise refuse(rc.FAIL_INVLD_REQUEST, f"The field '{name}' is required.")
        return default
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise refuse(rc.FAIL_INVLD_REQUEST, f"The field '{name}' has the wrong type "
                     f"({type(value).__name__}).")
    return value


def strings(data: dict[str, Any], name: str) -> list[str]:
    """``data[name]`` as a list of strings (``[]`` when absent); anything else is a 400."""
    value = field(data, name, list, [])
    if not all(isinstance(item, str) for item in value):
        raise refuse(rc.FAIL_INVLD_REQUEST, f"The field '{name}' is a list of strings.")
    return list(value)


def names_arg(name: str) -> list[str]:
    """A list query parameter given repeated (``?nodes=a&nodes=b``) or comma separated."""
    return [part for value in request.args.getlist(name) for part in value.split(",") if part]


def paginate(items: Sequence[Any]) -> list[Any]:
    """Apply the spec's ``offset``/``limit`` query parameters (limit 0 = no limit)."""
    try:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", 0))
    except ValueError:
        raise refuse(rc.FAIL_INVLD_REQUEST, "offset and limit are whole numbers.") from None
    rest = list(items[max(offset, 0):])
    return rest[:limit] if limit > 0 else rest


def mutate(mask: int, operation: Callable[..., Any], *args: Any, status: int = 200,
           **kwargs: Any) -> Response:
    """Run ``operation(controller, change, *args)`` as one transaction; answer its replies."""
    g.mask = mask
    ctl = controller()
    with ctl.change(mask) as change:
        operation(ctl, change, *args, **kwargs)
    return json_response(change.replies, status)


def _check_token() -> Response | None:
    token = current_app.config.get("LINSTOR_TOKEN")
    if not token:
        return None
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    # Bytes, not str: compare_digest refuses a str with non-ASCII characters (a 500, not a 401).
    if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(),
                                                          token.encode()):
        return None
    return json_response([entry(rc.API_CALL_AUTH_REQ, "Authentication required: send "
                                "'Authorization: Bearer <token>'.")], 401)


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    if code == 404:
        message = f"Unknown API path {request.method} {request.path}."
    elif code == 405:
        message = f"Method {request.method} is not allowed on {request.path}."
    else:
        message = exc.description or exc.name
    return json_response([entry(rc.UNKNOWN_API_CALL, message)], code)


def _error(exc: Exception) -> Response:
    status, replies = error_body(exc, g.get("mask", 0))
    if status >= 500 and replies and rc.code_of(replies[0]["ret_code"]) == rc.FAIL_IMPL_ERROR:
        log.exception("internal error on %s %s", request.method, request.path)
    return json_response(replies, status)
