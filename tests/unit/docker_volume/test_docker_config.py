"""Plugin configuration: flags over LS_* over the file over the linstor client's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from linstor_core import config as client_config
from linstor_core.errors import ConfigError, InvalidInput

from docker_volume.config import load_plugin_config

NO_FLAGS: dict[str, str | None] = {}


@pytest.fixture()
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "docker-volume.conf"
    path.write_text(
        "[global]\n"
        "controllers = linstor://from-file\n"
        "# the default profile\n"
        "profile = gold\n"
        "node = node-a\n"
        "mount-root = /mnt/docker\n"
    )
    return path


def test_the_file_is_used_when_nothing_overrides_it(conf: Path) -> None:
    settings = load_plugin_config(NO_FLAGS, config_file=conf, environ={}, client_config_paths=())
    assert settings.client.controllers == ("http://from-file:3370",)
    assert (settings.profile, settings.node, str(settings.mount_root)) == ("gold", "node-a", "/mnt/docker")
    assert str(settings.socket) == "/run/docker/plugins/linstor.sock"


def test_ls_controllers_beats_the_file_and_flags_beat_both(conf: Path) -> None:
    environ = {"LS_CONTROLLERS": "linstor://from-env"}
    from_env = load_plugin_config(NO_FLAGS, config_file=conf, environ=environ, client_config_paths=())
    assert from_env.client.controllers == ("http://from-env:3370",)
    flags = {"controllers": "http://flag:1234", "profile": "silver", "mount-root": "/srv/v"}
    from_flags = load_plugin_config(flags, config_file=conf, environ=environ, client_config_paths=())
    assert from_flags.client.controllers == ("http://flag:1234",)
    assert (from_flags.profile, str(from_flags.mount_root)) == ("silver", "/srv/v")


def test_defaults_without_any_file(tmp_path: Path) -> None:
    settings = load_plugin_config(NO_FLAGS, config_file=tmp_path / "none.conf", environ={}, client_config_paths=())
    assert settings.profile == "DfltRscGrp"
    assert settings.node == client_config.local_node_name({})
    assert settings.client.controllers == ("http://localhost:3370",)


def test_node_name_from_flag_then_ls_node_name_then_file(conf: Path) -> None:
    environ = {"LS_NODE_NAME": "env-node"}
    load = load_plugin_config
    assert load({"node": "flag-node"}, config_file=conf, environ=environ, client_config_paths=()).node == "flag-node"
    assert load(NO_FLAGS, config_file=conf, environ=environ, client_config_paths=()).node == "env-node"
    assert load(NO_FLAGS, config_file=conf, environ={}, client_config_paths=()).node == "node-a"


def test_tls_settings_in_the_file_reach_the_client_config(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    path = tmp_path / "docker-volume.conf"
    path.write_text(f"[global]\ncontrollers = linstor+ssl://ctrl\ncafile = {ca}\n")
    settings = load_plugin_config(NO_FLAGS, config_file=path, environ={}, client_config_paths=())
    assert settings.client.controllers == ("https://ctrl:3371",) and settings.client.ca_file == str(ca)


def test_an_unknown_key_is_refused_with_the_valid_ones(tmp_path: Path) -> None:
    path = tmp_path / "bad.conf"
    path.write_text("[global]\ncontroler = linstor://x\n")
    with pytest.raises(ConfigError, match="unknown key.*controler.*valid keys are controllers"):
        load_plugin_config(NO_FLAGS, config_file=path, environ={}, client_config_paths=())


def test_a_bad_profile_name_is_refused(conf: Path) -> None:
    with pytest.raises(InvalidInput, match="resource group name"):
        load_plugin_config({"profile": "no good"}, config_file=conf, environ={}, client_config_paths=())


def test_the_plugins_file_beats_the_linstor_client_files(conf: Path, tmp_path: Path) -> None:
    client_file = tmp_path / "linstor-client.conf"
    client_file.write_text("[global]\ncontrollers = linstor://from-client-conf\n")
    settings = load_plugin_config(NO_FLAGS, config_file=conf, environ={}, client_config_paths=(client_file,))
    assert settings.client.controllers == ("http://from-file:3370",)
    without = tmp_path / "none.conf"
    fallback = load_plugin_config(NO_FLAGS, config_file=without, environ={}, client_config_paths=(client_file,))
    assert fallback.client.controllers == ("http://from-client-conf:3370",)


def test_drop_ins_are_read_after_the_file_and_override_every_key(conf: Path, tmp_path: Path) -> None:
    drop_ins = tmp_path / "docker-volume.d"
    drop_ins.mkdir()
    (drop_ins / "20-site.conf").write_text("[global]\nprofile = silver\ncontrollers = linstor://from-20\n")
    (drop_ins / "10-base.conf").write_text("[global]\nprofile = bronze\nsocket = /run/l.sock\n")
    (drop_ins / "notes.txt").write_text("[global]\nprofile = ignored\n")
    settings = load_plugin_config(NO_FLAGS, config_file=conf, environ={}, client_config_paths=())
    assert (settings.profile, str(settings.socket), settings.node) == ("silver", "/run/l.sock", "node-a")
    assert settings.client.controllers == ("http://from-20:3370",)


def test_an_unknown_key_in_a_drop_in_is_refused_naming_it(conf: Path, tmp_path: Path) -> None:
    drop_in = tmp_path / "docker-volume.d" / "50-typo.conf"
    drop_in.parent.mkdir()
    drop_in.write_text("[global]\nprofil = gold\n")
    with pytest.raises(ConfigError, match=f"unknown key.*profil in {drop_in}"):
        load_plugin_config(NO_FLAGS, config_file=conf, environ={}, client_config_paths=())


@pytest.mark.parametrize("key", ["mount-root", "socket", "state-file"])
def test_a_relative_path_is_refused(tmp_path: Path, key: str) -> None:
    """dockerd gets the mount points and the socket: a relative path names nothing there."""
    with pytest.raises(ConfigError, match=f"{key} volumes is a relative path") as raised:
        load_plugin_config({key: "volumes"}, config_file=tmp_path / "none.conf", environ={}, client_config_paths=())
    assert "absolute path" in (raised.value.correction or "")
