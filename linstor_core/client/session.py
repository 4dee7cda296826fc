"""One HTTP session to the LINSTOR controllers: failover, retries, timeouts, auth, TLS.

Promises:

* Failover: the controllers are tried in order, starting with the last one that answered. The
  next one is tried when a controller could not be reached at all (refused, unresolvable,
  connect timeout, TLS handshake failed): such a request never arrived, so sending it elsewhere
  cannot repeat it. A ``GET`` also moves on once its ``GET_ATTEMPTS`` there got no answer.
* Retries: only ``GET`` (idempotent) is sent again after it may have reached a controller (read
  timeout, connection dropped mid-answer). A ``POST``/``PUT``/``DELETE`` whose answer was lost is
  reported, never resent, because it may have been carried out.
* Budget: with ``ClientConfig.budget`` set, every timeout is cut to what is left of it (counted
  from the session's first request), and a request that would start after it is spent is not
  sent: the caller fails inside its platform's lock instead of being killed under it.
* Any HTTP answer, error statuses included, counts as "the controller works"; turning it into a
  result or an exception is ``replies``' job. No ``requests`` exception leaves this module.
* The controllers are reached directly, as LINBIT's own client reaches them: the environment's
  proxies (``HTTP_PROXY``, set on many hosts for package downloads), ``~/.netrc`` credentials
  and CA bundle variables are not used (``trust_env`` off); TLS trust comes from the
  configuration's ``ca_file``. This also spares every call requests' look through the whole
  environment, a good part of its per-call cost.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from linstor_core.config import ClientConfig
from linstor_core.errors import ConfigError, ControllerUnreachable, LinstorError
from linstor_core.stopsignals import uninterrupted

GET_ATTEMPTS = 2
Params = Mapping[str, str | Sequence[str]]


def _direct_session() -> requests.Session:
    """A requests session that ignores the environment (see the module docstring)."""
    http = requests.Session()
    http.trust_env = False
    return http


class Session:
    """Sends one REST call to the first controller that answers; no I/O until ``request``."""

    def __init__(self, config: ClientConfig, http: requests.Session | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.http = http if http is not None else _direct_session()
        self._clock = clock
        self._deadline: float | None = None
        self._first = 0
        self._headers = {"Accept": "application/json"}
        if config.token:
            self._headers["Authorization"] = f"Bearer {config.token}"

    @property
    def controller(self) -> str:
        """The controller the next request goes to first (the last one that answered)."""
        return self.config.controllers[self._first]

    def request(self, method: str, path: str, *, params: Params | None = None,
                body: Any = None) -> requests.Response:
        """The controller's HTTP answer to ``method path`` (any status).

        Raises ControllerUnreachable when no controller could be reached (each URL with its
        reason), LinstorError when a non-GET request got no answer after it was sent.
        """
        controllers = self.config.controllers
        order = [*range(self._first, len(controllers)), *range(self._first)]
        attempts = GET_ATTEMPTS if method == "GET" else 1
        tried: list[tuple[str, str]] = []
        failures: list[str] = []
        if self.config.budget is not None and self._deadline is None:
            self._deadline = self._clock() + self.config.budget
        for index in order:
            url = controllers[index].rstrip("/") + path
            for attempt in range(1, attempts + 1):
                timeouts = self._timeouts_left(f"{method} {path}", failures)
                try:
                    response = self._send(method, url, params, body, timeouts)
                except requests.RequestException as exc:
                    why = _describe(exc, timeouts)
                    failures.append(f"{controllers[index]}: {why}")
                    if _not_sent(exc):
                        tried.append((controllers[index], why))
                        break
                    if attempt < attempts:
                        continue
                    if method != "GET":
                        raise LinstorError(
                            f"{method} {path}: no answer from {controllers[index]} ({why})",
                            cause="the request was sent, so it may have been carried out",
                            correction="check the object's state before repeating the request",
                        ) from None
                    tried.append((controllers[index], why))
                    break
                if response.is_redirect:
                    response.close()
                    raise _redirected(controllers[index], response)
                self._first = index
                return response
        raise ControllerUnreachable(tried)

    def _timeouts_left(self, call: str, failures: Sequence[str]) -> tuple[float, float]:
        """(connect, read) seconds for the next send, cut to what is left of the budget;
        a spent budget raises instead (``failures``: what this call met so far)."""
        connect, read = self.config.connect_timeout, self.config.read_timeout
        if self._deadline is None:
            return connect, read
        left = self._deadline - self._clock()
        if left <= 0:
            raise LinstorError(
                f"{call}: not sent, the {self.config.budget:g} s budget for controller requests "
                "is spent",
                cause="; ".join(failures) or "earlier requests of this call were slow",
                correction="check the controllers' load and reachability, then repeat",
            )
        return min(connect, left), min(read, left)

    def _send(self, method: str, url: str, params: Params | None, body: Any,
              timeouts: tuple[float, float]) -> requests.Response:
        config = self.config
        verify: bool | str = config.ca_file if config.ca_file and config.verify else config.verify
        if verify is True:
            verify = system_trust()
        cert: str | tuple[str, str] | None = config.client_cert
        if config.client_cert and config.client_key:
            cert = (config.client_cert, config.client_key)
        with uninterrupted():  # a stop signal waits for the answer (see stopsignals)
            return self.http.request(
                method, url, params=params, json=body, headers=self._headers, verify=verify,
                cert=cert, timeout=timeouts, allow_redirects=False,
            )


@functools.cache
def system_trust() -> str | bool:
    """The system's CA certificates (``SSL_CERT_FILE``/``SSL_CERT_DIR``, else OpenSSL's default
    file or directory, ``/etc/ssl/certs`` on Debian), which requests would otherwise replace
    with its own bundle (certifi): a CA an admin added to the system is trusted, as by curl
    and LINBIT's client. True (requests' bundle) only when the system has none."""
    paths = ssl.get_default_verify_paths()
    return paths.cafile or paths.capath or True


def _redirected(controller: str, response: requests.Response) -> ConfigError:
    """A controller that redirects serves its API elsewhere, typically HTTPS only (LINSTOR
    answers plain HTTP with a redirect then). Followed, requests would turn a POST into a GET
    without its body and drop the token on the way, so it is reported instead; the request
    itself was not carried out."""
    location = response.headers.get("Location", "")
    https = location.startswith("https://")
    return ConfigError(
        f"controller {controller} redirects {response.request.method} {urlsplit(response.url).path} "
        f"to {location or 'nowhere'} (HTTP {response.status_code}); nothing was done",
        cause="it serves the REST API over HTTPS" if https else "its REST API is at another address",
        correction=("use linstor+ssl://HOST (https://HOST:3371) in LS_CONTROLLERS / controllers=, with cafile= "
                    "for its certificate") if https else "point LS_CONTROLLERS / controllers= at that address",
    )


def _not_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached a controller (safe to send elsewhere)."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def _describe(exc: requests.RequestException, timeouts: tuple[float, float]) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return f"connect timeout after {timeouts[0]:.3g} s"
    if isinstance(exc, requests.ReadTimeout):
        return f"no answer within {timeouts[1]:.3g} s"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS error: {exc}"
    reason = exc.args[0] if exc.args else exc
    if isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    if isinstance(reason, NewConnectionError):
        return f"connection failed: {str(reason).rsplit(': ', 1)[-1]}"
    return f"{type(exc).__name__}: {reason}"
