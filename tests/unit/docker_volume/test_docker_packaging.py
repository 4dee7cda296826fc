"""The packaging agrees with the code: socket paths, mount root under propagatedMount, caps."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

from docker_volume import config

PACKAGING = Path(__file__).resolve().parents[3] / "packaging" / "docker"


def _flag(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_managed_plugin_config() -> None:
    plugin = json.loads((PACKAGING / "config.json").read_text())
    assert plugin["interface"] == {"types": ["docker.volumedriver/1.0"], "socket": "linstor.sock"}
    assert plugin["linux"]["capabilities"] == ["CAP_SYS_ADMIN"] and plugin["linux"]["allowAllDevices"]
    assert plugin["network"]["type"] == "host"
    assert {m["destination"] for m in plugin["mounts"]} == {"/dev", "/etc/linstor"}
    entrypoint = plugin["entrypoint"]
    assert _flag(entrypoint, "--socket") == "/run/docker/plugins/" + plugin["interface"]["socket"]
    propagated = Path(plugin["propagatedMount"])
    assert propagated in Path(_flag(entrypoint, "--mount-root")).parents
    assert {e["name"] for e in plugin["env"]} == {"LS_CONTROLLERS", "LS_NODE_NAME"}


def test_systemd_socket_is_the_default_socket_and_private() -> None:
    unit = configparser.ConfigParser(strict=False)
    unit.read(PACKAGING / "linstor-docker-volume.socket")
    assert unit["Socket"]["ListenStream"] == str(config.DEFAULT_SOCKET)
    assert unit["Socket"]["SocketMode"] == "0600"
    assert "docker.service" in unit["Unit"]["Before"]


def test_systemd_service_runs_the_console_script_in_the_hosts_mount_namespace() -> None:
    unit = configparser.ConfigParser(strict=False)
    unit.read(PACKAGING / "linstor-docker-volume.service")
    assert unit["Service"]["ExecStart"] == "/usr/local/bin/linstor-docker-volume"
    assert unit["Unit"]["Requires"] == "linstor-docker-volume.socket"
    assert unit["Install"]["Also"] == "linstor-docker-volume.socket"
    assert unit["Unit"]["Before"] == "docker.service"  # stopped after dockerd: its Unmounts still answered
    isolating = {"privatemounts", "privatetmp", "protectsystem", "protecthome", "mountflags"}  # keys read lower-case
    assert not isolating & set(unit["Service"])  # dockerd must see the plugin's mounts
