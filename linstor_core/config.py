"""Where the LINSTOR controllers are and how to talk to them: read once at the edge, then typed.

Sources, strongest first (each setting is taken from the first source that has it):

1. the ``explicit`` argument (controllers only: a command-line flag, a storage.cfg entry);
2. the environment, with the linstor client's names: ``LS_CONTROLLERS`` (comma separated),
   ``LS_ROOT_CA``, ``LS_USER_CERTIFICATE``, ``LS_USER_KEY`` (file paths, as the linstor
   client's ``--cafile``/``--certfile``/``--keyfile``; PEM text in them, which Kubernetes
   deployments of golinstor clients set, is refused with how to fix it), ``LS_TOKEN`` (a
   bearer token) or ``LS_TOKEN_FILE`` (a JSON file ``{"token": "..."}``);
3. the ``[global]`` section of ``~/.config/linstor/linstor-client.conf``;
4. the ``[global]`` section of ``/etc/linstor/linstor-client.conf``, with the drop-ins
   ``/etc/linstor/linstor-client.d/*.conf`` read after it (a drop-in overrides the main file).

Config file keys are the linstor client's: ``controllers``, ``cafile``, ``certfile``,
``keyfile``, plus ``token-file``. Without any controller the default is ``linstor://localhost``.

Controller URIs: ``linstor://host[:port]`` (HTTP, port 3370), ``linstor+ssl://host[:port]``
(HTTPS, port 3371), ``http://`` and ``https://`` (same default ports), or a bare ``host[:port]``
(as ``linstor://``). Each becomes a plain ``http(s)://host:port`` base URL.
"""

from __future__ import annotations

import configparser
import ipaddress
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from linstor_core.errors import ConfigError

USER_CONFIG = Path("~/.config/linstor/linstor-client.conf")
SYSTEM_CONFIG = Path("/etc/linstor/linstor-client.conf")
DEFAULT_PATHS: tuple[Path, ...] = (USER_CONFIG, SYSTEM_CONFIG)
DEFAULT_CONTROLLER = "linstor://localhost"

HTTP_PORT = 3370
HTTPS_PORT = 3371
_SCHEMES = {
    "linstor": ("http", HTTP_PORT),
    "linstor+ssl": ("https", HTTPS_PORT),
    "http": ("http", HTTP_PORT),
    "https": ("https", HTTPS_PORT),
}

log = logging.getLogger(__name__)

# (environment variable, config file key) for each file-valued setting.
_CA = ("LS_ROOT_CA", "cafile")
_CERT = ("LS_USER_CERTIFICATE", "certfile")
_KEY = ("LS_USER_KEY", "keyfile")
_TOKEN_FILE = ("LS_TOKEN_FILE", "token-file")


@dataclass(frozen=True)
class ClientConfig:
    """A checked client configuration; building one does no I/O.

    ``controllers`` are base URLs (``http://host:3370``) tried in order. ``token`` is sent as
    ``Authorization: Bearer``. ``ca_file`` replaces the system CAs for HTTPS; ``client_cert``
    (and ``client_key`` when the key is a separate file) authenticate the client by TLS.
    Timeouts are seconds. ``budget``: how long all requests of one session may take together,
    counted from its first request (None: no limit); for one-shot processes whose hook must
    finish inside a platform's lock (PVE holds its storage lock for 60 s), so failovers and GET
    retries can never add up past it. A long-lived server (the Docker plugin) sets none.
    """

    controllers: tuple[str, ...]
    token: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    verify: bool = True
    budget: float | None = None

    def __post_init__(self) -> None:
        if not self.controllers:
            raise ConfigError("no LINSTOR controller configured",
                              correction="set LS_CONTROLLERS or controllers= in "
                              "/etc/linstor/linstor-client.conf")
        if self.budget is not None and self.budget <= 0:
            raise ConfigError(f"the request budget must be positive seconds, not {self.budget}")
        if self.client_key and not self.client_cert:
            raise ConfigError("a client key is configured without its certificate",
                              correction="set LS_USER_CERTIFICATE (certfile=) too, or drop the key")


def normalize_controller_url(uri: str) -> str:
    """``linstor://h`` -> ``http://h:3370``, ``linstor+ssl://h`` -> ``https://h:3371``.

    Raises ConfigError for an unknown scheme, a bad port, or a path/query after the host.
    """
    text = uri.strip()
    if not text:
        raise ConfigError("empty controller URI", correction="give linstor://HOST[:PORT]")
    if "://" not in text:
        text = f"linstor://{text}"
    shown = _without_credentials(uri)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        ipv6 = text.split("://", 1)[-1].count(":") > 1 and "[" not in text
        raise ConfigError(f"invalid controller URI {shown!r}", cause=str(exc),
                          correction="an IPv6 address goes in brackets: linstor://[fd00::1]" if ipv6
                          else "give linstor://HOST[:PORT]") from None
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise ConfigError(f"unknown scheme {parts.scheme!r} in controller URI {shown!r}",
                          correction="use linstor://, linstor+ssl://, http:// or https://")
    if (not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment
            or port == 0 or "@" in parts.netloc):
        raise ConfigError(f"invalid controller URI {shown!r}",
                          cause="expected only a host and an optional port from 1 to 65535",
                          correction="give linstor://HOST[:PORT] (a token goes in LS_TOKEN, not the URI)")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{scheme[0]}://{host}:{port or scheme[1]}"


def _without_credentials(uri: str) -> str:
    """``uri`` as an error may show it: a user and password before ``@`` become ``***``."""
    scheme, separator, rest = uri.partition("://")
    if not separator:
        scheme, rest = "", uri
    netloc, slash, tail = rest.partition("/")
    if "@" not in netloc:
        return uri
    hidden = "***@" + netloc.rsplit("@", 1)[1]
    return f"{scheme}{separator}{hidden}{slash}{tail}"


def load_client_config(
    explicit: str | Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    config_paths: Sequence[Path] = DEFAULT_PATHS,
) -> ClientConfig:
    """Build the ClientConfig from the sources in the module docstring, strongest first.

    Reads the config files and checks that every named CA, certificate, key and token file is
    readable; anything wrong is a ConfigError naming the setting and the fix.
    """
    files = _read_config_files(config_paths)
    controllers = _controllers(explicit, environ, files)
    token = checked_token(environ["LS_TOKEN"], "LS_TOKEN") if environ.get("LS_TOKEN", "").strip() else None
    if token is None:
        token_file = _file_setting(_TOKEN_FILE, environ, files)
        token = _read_token(token_file) if token_file else None
    return ClientConfig(
        controllers=controllers,
        token=token,
        ca_file=_file_setting(_CA, environ, files),
        client_cert=_file_setting(_CERT, environ, files),
        client_key=_file_setting(_KEY, environ, files),
    )


def warn_of_a_cleartext_token(config: ClientConfig) -> None:
    """Log once that the token crosses a network unencrypted (http to another host), for the
    long-lived and interactive programs (the Docker plugin, linstor-core): a PVE or OpenNebula
    hook is a new process each call, and would say it every few seconds."""
    if config.token:
        for url in config.controllers:
            if _sends_in_clear(url):
                log.warning("the LINSTOR token goes to %s unencrypted: use linstor+ssl:// (https) for a "
                            "controller that is not on this host", url)


def _sends_in_clear(url: str) -> bool:
    """Whether a token sent to ``url`` crosses a network unencrypted (http to another host)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname in (None, "localhost"):
        return False
    try:
        return not ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return True


def local_node_name(environ: Mapping[str, str] = os.environ) -> str:
    """This host's LINSTOR node name: ``LS_NODE_NAME``, else ``uname -n`` as satellites use."""
    return environ.get("LS_NODE_NAME") or os.uname().nodename


def _controllers(explicit: str | Sequence[str] | None, environ: Mapping[str, str],
                 files: Mapping[str, tuple[str, Path]]) -> tuple[str, ...]:
    if explicit:
        raw = [explicit] if isinstance(explicit, str) else list(explicit)
    elif environ.get("LS_CONTROLLERS"):
        raw = [environ["LS_CONTROLLERS"]]
    elif "controllers" in files:
        raw = [files["controllers"][0]]
    else:
        raw = [DEFAULT_CONTROLLER]
    uris = [part for entry in raw for part in entry.split(",") if part.strip()]
    return tuple(dict.fromkeys(normalize_controller_url(uri) for uri in uris))


def _read_config_files(paths: Sequence[Path]) -> dict[str, tuple[str, Path]]:
    """``[global]`` key -> (value, file it came from); earlier paths win, drop-ins override."""
    found: dict[str, tuple[str, Path]] = {}
    for path in paths:
        path = path.expanduser()
        layer: dict[str, tuple[str, Path]] = {}
        for source in [path, *_drop_ins(path)]:
            layer.update((key, (value, source)) for key, value in _global_section(source).items())
        found = layer | found
    return found


def _drop_ins(path: Path) -> list[Path]:
    """``NAME.d/*.conf`` beside ``path``, sorted. A directory this user may not read counts as
    absent, as configparser treats unreadable files: e.g. a service user whose HOME is /root."""
    try:
        return sorted((path.parent / f"{path.stem}.d").glob("*.conf"))
    except OSError:
        return []


def _global_section(path: Path) -> dict[str, str]:
    try:
        text = path.read_text()
    except OSError:
        return {}  # missing or unreadable: skipped, as configparser's read() skips it
    # Only now a parser: building one costs more than the usual case, no file at all, and
    # every linstor-one action (a process of its own) looks at two paths.
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise ConfigError(f"cannot parse {path}", cause=str(exc),
                          correction="fix the INI syntax ([global] then key = value lines)") from None
    return dict(parser.items("global")) if parser.has_section("global") else {}


def _file_setting(setting: tuple[str, str], environ: Mapping[str, str],
                  files: Mapping[str, tuple[str, Path]]) -> str | None:
    """The checked path of a file-valued setting, or None when no source names one."""
    env_name, key = setting
    if environ.get(env_name):
        value, name, where = environ[env_name], env_name, "the environment"
    elif key in files:
        value, source = files[key]
        name, where = f"{key}=", str(source)
    else:
        return None
    if value.lstrip().startswith("-----BEGIN"):
        raise ConfigError(f"{name} in {where} holds PEM text, not a file path",
                          correction=f"write the PEM to a file and set {name} to its path")
    path = Path(value).expanduser()
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ConfigError(f"{name} in {where} names {path}, which is not a readable file",
                          correction=f"fix {name} or create the file")
    return str(path)


def _read_token(path: str) -> str:
    try:
        token = json.loads(Path(path).read_text()).get("token")
    except (OSError, ValueError, AttributeError) as exc:
        raise ConfigError(f"cannot read a token from {path}", cause=str(exc),
                          correction='the token file holds JSON: {"token": "..."}') from None
    if not isinstance(token, str) or not token.strip():
        raise ConfigError(f"no token in {path}",
                          correction='the token file holds JSON: {"token": "..."}')
    return checked_token(token, path)


def checked_token(token: str, source: str) -> str:
    """``token`` without the line end a file or ``echo`` adds; any other control character or
    space inside is refused, naming ``source``, never the token (errors are logged)."""
    stripped = token.strip()
    if not stripped.isprintable() or any(char.isspace() for char in stripped):
        raise ConfigError(f"the token from {source} holds spaces or control characters",
                          cause="an HTTP Authorization header cannot carry them",
                          correction="write the token alone, on one line")
    return stripped


__all__ = [
    "DEFAULT_PATHS",
    "ClientConfig",
    "load_client_config",
    "warn_of_a_cleartext_token",
    "local_node_name",
    "normalize_controller_url",
]
