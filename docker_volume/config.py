"""The plugin's configuration, read and checked once at start.

Sources, strongest first: command-line flags; the linstor client's ``LS_*`` environment
variables (``LS_CONTROLLERS``, ``LS_ROOT_CA``, ``LS_USER_CERTIFICATE``, ``LS_USER_KEY``,
``LS_TOKEN``/``LS_TOKEN_FILE``, ``LS_NODE_NAME``); the ``[global]`` section of
``/etc/linstor/docker-volume.conf`` and its drop-ins ``/etc/linstor/docker-volume.d/*.conf``
(read after it, so a drop-in overrides it); the linstor client's own config files; built-in
defaults. The connection settings are resolved by ``linstor_core.config`` with this file (and
so its drop-ins) placed before the client's files. An unknown key in the file or a drop-in is
an error, not a silent typo; every key counts in a drop-in as in the file.

Example ``/etc/linstor/docker-volume.conf``::

    [global]
    controllers = linstor://ctrl1,linstor://ctrl2
    profile = gold
    # default: the host name (uname -n), as LINSTOR names nodes
    node = node-a
    mount-root = /var/lib/docker-volumes/linstor
    socket = /run/docker/plugins/linstor.sock
    state-file = /var/lib/linstor-docker-volume/mounts.json
    # TLS and token settings as in linstor-client.conf: cafile, certfile, keyfile, token-file
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from linstor_core import config as client_config
from linstor_core import naming
from linstor_core.config import ClientConfig
from linstor_core.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("/etc/linstor/docker-volume.conf")
DEFAULT_SOCKET = Path("/run/docker/plugins/linstor.sock")
DEFAULT_MOUNT_ROOT = Path("/var/lib/docker-volumes/linstor")
DEFAULT_STATE_FILE = Path("/var/lib/linstor-docker-volume/mounts.json")
DEFAULT_PROFILE = "DfltRscGrp"  # LINSTOR's own default resource group

FLAG_KEYS = ("controllers", "profile", "node", "mount-root", "socket", "state-file")
FILE_KEYS = (*FLAG_KEYS, "cafile", "certfile", "keyfile", "token-file")


@dataclass(frozen=True)
class PluginConfig:
    """Everything the plugin needs to run, checked."""

    socket: Path
    mount_root: Path
    state_file: Path
    profile: str
    node: str
    client: ClientConfig


def _config_sources(path: Path) -> list[Path]:
    """``path``, then its drop-ins ``<stem>.d/*.conf`` beside it, sorted: the files read, in the
    order the linstor client reads a config file and its drop-ins (a later file overrides). A
    drop-in directory this user may not read counts as absent, as it does for the client."""
    try:
        return [path, *sorted((path.parent / f"{path.stem}.d").glob("*.conf"))]
    except OSError:
        return [path]


def read_config_file(path: Path) -> dict[str, str]:
    """The ``[global]`` keys of ``path`` and its drop-ins (``_config_sources``), later files
    overriding; a missing file is empty, a broken one or an unknown key a ConfigError."""
    values: dict[str, str] = {}
    for source in _config_sources(path):
        values.update(_global_keys(source))
    return values


def _global_keys(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        found = parser.read(path)
    except configparser.Error as error:
        raise ConfigError(f"cannot read {path}", cause=str(error), correction="fix the INI syntax") from None
    if not found or not parser.has_section("global"):
        return {}
    values = dict(parser.items("global"))
    unknown = sorted(set(values) - set(FILE_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} in {path} [global]",
            correction=f"valid keys are {', '.join(FILE_KEYS)}",
        )
    return values


def load_plugin_config(
    flags: Mapping[str, str | None],
    *,
    config_file: Path = DEFAULT_CONFIG_FILE,
    environ: Mapping[str, str] = os.environ,
    client_config_paths: Sequence[Path] = client_config.DEFAULT_PATHS,
) -> PluginConfig:
    """Merge ``flags`` (keys as in ``FLAG_KEYS``, None when not given) over env, file and defaults.

    ``client_config_paths`` are the linstor client's own files, the weakest source of controllers.
    """
    from_file = read_config_file(config_file)

    def pick(key: str) -> str | None:
        return flags.get(key) or from_file.get(key) or None

    def absolute(key: str, default: Path) -> Path:
        """dockerd is handed these paths (the mount points under the mount root, the socket) and
        runs elsewhere: a relative one would name another place, or none, there."""
        path = Path(pick(key) or default)
        if not path.is_absolute():
            raise ConfigError(f"{key} {path} is a relative path", correction=f"give --{key} (or {key} = in "
                              f"{config_file} or its drop-ins, [global]) as an absolute path, e.g. {default}")
        return path

    node = flags.get("node") or environ.get("LS_NODE_NAME") or from_file.get("node")
    return PluginConfig(
        socket=absolute("socket", DEFAULT_SOCKET),
        mount_root=absolute("mount-root", DEFAULT_MOUNT_ROOT),
        state_file=absolute("state-file", DEFAULT_STATE_FILE),
        profile=naming.validate_resource_group_name(pick("profile") or DEFAULT_PROFILE),
        node=naming.validate_node_name(node or client_config.local_node_name(environ)),
        client=client_config.load_client_config(
            flags.get("controllers"), environ=environ, config_paths=(config_file, *client_config_paths)
        ),
    )


__all__ = ["DEFAULT_CONFIG_FILE", "FLAG_KEYS", "FILE_KEYS", "PluginConfig", "read_config_file", "load_plugin_config"]
