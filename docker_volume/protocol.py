"""The Docker volume plugin protocol (v1.2 JSON over HTTP): routes in, driver calls, JSON out.

Docker POSTs a JSON body with content type ``application/vnd.docker.plugins.v1.2+json``, which
Flask's ``request.json`` would not parse, so the body is read as JSON whatever the header says.
Every answer to a known endpoint is HTTP 200 with ``Err`` empty or a message: this module is the
one place where errors are rendered, with the LINSTOR message intact. A bug shows as a short
``Err`` and a traceback in the plugin's own log, never a traceback sent to Docker.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from linstor_core.errors import InvalidInput, LinstorError

from docker_volume.driver import VolumeDriver, VolumeInfo

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/vnd.docker.plugins.v1.2+json"

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def _answer(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)


def _request_body() -> dict[str, Any]:
    """The request's JSON object; an empty body is ``{}`` (Activate, List, Capabilities)."""
    raw = request.get_data(cache=False)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise InvalidInput("request body", raw.decode(errors="replace"), f"not JSON ({error})") from None
    if not isinstance(body, dict):
        raise InvalidInput("request body", body, "must be a JSON object")
    return body


def _text(body: dict[str, Any], key: str) -> str:
    """A string field of the request; missing is empty (the driver says what it needed)."""
    value = body.get(key, "")
    if not isinstance(value, str):
        raise InvalidInput(key, value, "must be a string")
    return value


def _volume(info: VolumeInfo) -> dict[str, Any]:
    volume: dict[str, Any] = {"Name": info.name, "Mountpoint": info.mountpoint}
    if info.created_at:
        volume["CreatedAt"] = info.created_at
    if info.status:
        volume["Status"] = dict(info.status)
    return volume


def _handlers(driver: VolumeDriver) -> dict[str, Handler]:
    """Endpoint -> one driver call and the shape Docker expects back."""

    def create(body: dict[str, Any]) -> dict[str, Any]:
        driver.create(_text(body, "Name"), body.get("Opts"))
        return {}

    def remove(body: dict[str, Any]) -> dict[str, Any]:
        driver.remove(_text(body, "Name"))
        return {}

    def mount(body: dict[str, Any]) -> dict[str, Any]:
        return {"Mountpoint": driver.mount(_text(body, "Name"), _text(body, "ID"))}

    def unmount(body: dict[str, Any]) -> dict[str, Any]:
        driver.unmount(_text(body, "Name"), _text(body, "ID"))
        return {}

    def path(body: dict[str, Any]) -> dict[str, Any]:
        return {"Mountpoint": driver.path(_text(body, "Name"))}

    def get(body: dict[str, Any]) -> dict[str, Any]:
        return {"Volume": _volume(driver.get(_text(body, "Name")))}

    def list_volumes(body: dict[str, Any]) -> dict[str, Any]:
        return {"Volumes": [{"Name": v.name, "Mountpoint": v.mountpoint} for v in driver.list()]}

    return {
        "/Plugin.Activate": lambda body: {"Implements": ["VolumeDriver"]},
        "/VolumeDriver.Create": create,
        "/VolumeDriver.Remove": remove,
        "/VolumeDriver.Mount": mount,
        "/VolumeDriver.Unmount": unmount,
        "/VolumeDriver.Path": path,
        "/VolumeDriver.Get": get,
        "/VolumeDriver.List": list_volumes,
        "/VolumeDriver.Capabilities": lambda body: {"Capabilities": {"Scope": "global"}},
    }


def create_app(driver: VolumeDriver) -> Flask:
    """The WSGI app serving ``driver``; any WSGI server can host it (cheroot does in production)."""
    app = Flask(__name__)

    for endpoint, handler in _handlers(driver).items():

        def view(handler: Handler = handler, endpoint: str = endpoint) -> Response:
            body = _request_body()
            log.debug("%s %s", endpoint, body)
            reply = handler(body)
            if endpoint.startswith("/VolumeDriver.") and endpoint != "/VolumeDriver.Capabilities":
                reply = {"Err": "", **reply}
            return _answer(reply)

        app.add_url_rule(endpoint, endpoint=endpoint, view_func=view, methods=["POST"])

    @app.errorhandler(LinstorError)
    def refused(error: LinstorError) -> Response:
        message = error.one_line()
        log.warning("%s refused: %s", request.path, message)
        return _answer({"Err": message})

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        return _answer({"Err": f"{request.method} {request.path}: {error.name}"}, error.code or 500)

    @app.errorhandler(Exception)
    def bug(error: Exception) -> Response:
        log.exception("%s failed", request.path)
        return _answer({"Err": f"internal error in the LINSTOR volume plugin ({type(error).__name__}: "
                               f"{error}); details are in its log"})

    return app


__all__ = ["MEDIA_TYPE", "create_app"]
