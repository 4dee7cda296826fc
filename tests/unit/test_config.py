"""Client configuration: URI forms, source precedence, TLS and token files, errors that say the fix.

Every test uses temporary files and a fake environment; the real /etc and ~ are never read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from linstor_core.config import (
    DEFAULT_PATHS,
    ClientConfig,
    load_client_config,
    local_node_name,
    normalize_controller_url,
)
from linstor_core.errors import ConfigError


@pytest.mark.parametrize(("uri", "url"), [
    ("linstor://ctl", "http://ctl:3370"),
    ("linstor://ctl:4000", "http://ctl:4000"),
    ("linstor+ssl://ctl", "https://ctl:3371"),
    ("LINSTOR+SSL://ctl:443/", "https://ctl:443"),
    ("http://ctl", "http://ctl:3370"),
    ("https://ctl", "https://ctl:3371"),
    ("https://ctl:8443", "https://ctl:8443"),
    ("ctl", "http://ctl:3370"),
    ("10.0.0.5:3370", "http://10.0.0.5:3370"),
    ("linstor://[fd00::1]", "http://[fd00::1]:3370"),
    (" linstor://ctl ", "http://ctl:3370"),
])
def test_controller_uris(uri: str, url: str) -> None:
    assert normalize_controller_url(uri) == url


@pytest.mark.parametrize(("uri", "says"), [
    ("ftp://ctl", "unknown scheme 'ftp'"),
    ("linstor://ctl:99999", "invalid controller URI"),
    ("linstor://ctl:abc", "invalid controller URI"),
    ("linstor://ctl:0", "invalid controller URI"),
    ("linstor://admin:secret@ctl", "invalid controller URI"),
    ("linstor://ctl/v1/nodes", "expected only a host"),
    ("linstor://ctl?x=1", "expected only a host"),
    ("linstor://", "invalid controller URI"),
    ("", "empty controller URI"),
])
def test_bad_controller_uris(uri: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as info:
        normalize_controller_url(uri)
    assert "linstor://" in info.value.correction


def conf(path: Path, **settings: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[global]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
    return path


@pytest.fixture
def user(tmp_path: Path) -> Path:
    return tmp_path / "home" / ".config" / "linstor" / "linstor-client.conf"


@pytest.fixture
def system(tmp_path: Path) -> Path:
    return tmp_path / "etc" / "linstor" / "linstor-client.conf"


def test_default_is_the_local_controller(user: Path, system: Path) -> None:
    config = load_client_config(environ={}, config_paths=(user, system))
    assert config == ClientConfig(controllers=("http://localhost:3370",))
    assert (config.connect_timeout, config.read_timeout, config.verify) == (5.0, 60.0, True)


def test_precedence_explicit_env_user_system(user: Path, system: Path) -> None:
    paths = (user, system)
    conf(system, controllers="linstor://sys")
    assert load_client_config(environ={}, config_paths=paths).controllers == ("http://sys:3370",)
    conf(user, controllers="linstor://usr")
    assert load_client_config(environ={}, config_paths=paths).controllers == ("http://usr:3370",)
    env = {"LS_CONTROLLERS": "linstor://env1,linstor+ssl://env2"}
    assert load_client_config(environ=env, config_paths=paths).controllers == (
        "http://env1:3370", "https://env2:3371")
    assert load_client_config("linstor://arg", environ=env, config_paths=paths).controllers == (
        "http://arg:3370",)
    assert load_client_config(["a", "b:1", "a"], environ=env, config_paths=paths).controllers == (
        "http://a:3370", "http://b:1")


def test_empty_explicit_and_env_fall_through(user: Path, system: Path) -> None:
    conf(system, controllers="linstor://sys")
    config = load_client_config([], environ={"LS_CONTROLLERS": ""}, config_paths=(user, system))
    assert config.controllers == ("http://sys:3370",)


def test_drop_ins_override_their_main_file_but_not_a_stronger_file(user: Path, system: Path) -> None:
    conf(system, controllers="linstor://sys", cafile="/nonexistent-ca")
    dropins = system.parent / "linstor-client.d"
    conf(dropins / "10-a.conf", controllers="linstor://dropin-a")
    conf(dropins / "20-b.conf", controllers="linstor://dropin-b")
    (dropins / "ignored.txt").write_text("[global]\ncontrollers = linstor://nope\n")
    ca = conf(user.parent / "ca.pem")
    conf(dropins / "30-ca.conf", cafile=str(ca))
    config = load_client_config(environ={}, config_paths=(user, system))
    assert config.controllers == ("http://dropin-b:3370",)
    assert config.ca_file == str(ca)
    conf(user, controllers="linstor://usr")
    assert load_client_config(environ={}, config_paths=(user, system)).controllers == ("http://usr:3370",)


def test_a_file_without_global_or_missing_is_ignored(user: Path, system: Path) -> None:
    system.parent.mkdir(parents=True)
    system.write_text("[other]\ncontrollers = linstor://x\n")
    assert load_client_config(environ={}, config_paths=(user, system)).controllers == (
        "http://localhost:3370",)


def test_a_broken_file_names_itself(system: Path) -> None:
    system.parent.mkdir(parents=True)
    system.write_text("controllers = linstor://x\n")
    with pytest.raises(ConfigError, match=f"cannot parse {system}") as info:
        load_client_config(environ={}, config_paths=(system,))
    assert "[global]" in info.value.correction


def test_a_bad_uri_in_a_file_is_a_config_error(system: Path) -> None:
    conf(system, controllers="ftp://x")
    with pytest.raises(ConfigError, match="unknown scheme"):
        load_client_config(environ={}, config_paths=(system,))


def test_tls_files_from_the_environment_win_over_files(tmp_path: Path, system: Path) -> None:
    files = {name: conf(tmp_path / name) for name in ("ca", "crt", "key", "file-ca", "file-crt", "file-key")}
    conf(system, controllers="linstor+ssl://ctl", cafile=str(files["file-ca"]),
         certfile=str(files["file-crt"]), keyfile=str(files["file-key"]))
    from_files = load_client_config(environ={}, config_paths=(system,))
    assert (from_files.ca_file, from_files.client_cert, from_files.client_key) == (
        str(files["file-ca"]), str(files["file-crt"]), str(files["file-key"]))
    env = {"LS_ROOT_CA": str(files["ca"]), "LS_USER_CERTIFICATE": str(files["crt"]),
           "LS_USER_KEY": str(files["key"])}
    from_env = load_client_config(environ=env, config_paths=(system,))
    assert from_env.controllers == ("https://ctl:3371",)
    assert (from_env.ca_file, from_env.client_cert, from_env.client_key) == (
        str(files["ca"]), str(files["crt"]), str(files["key"]))


def test_a_missing_ca_file_names_the_setting_and_the_fix(tmp_path: Path, system: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError, match=f"LS_ROOT_CA in the environment names {missing}") as info:
        load_client_config(environ={"LS_ROOT_CA": str(missing)}, config_paths=())
    assert "LS_ROOT_CA" in info.value.correction
    conf(system, cafile=str(missing))
    with pytest.raises(ConfigError, match=f"cafile= in {system} names {missing}"):
        load_client_config(environ={}, config_paths=(system,))


def test_a_directory_is_not_a_certificate(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a readable file"):
        load_client_config(environ={"LS_USER_CERTIFICATE": str(tmp_path)}, config_paths=())


def test_pem_text_instead_of_a_path_is_refused_with_the_fix() -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    with pytest.raises(ConfigError, match="LS_ROOT_CA in the environment holds PEM text") as info:
        load_client_config(environ={"LS_ROOT_CA": pem}, config_paths=())
    assert "write the PEM to a file" in info.value.correction


def test_a_key_without_a_certificate_is_refused(tmp_path: Path) -> None:
    key = conf(tmp_path / "key.pem")
    with pytest.raises(ConfigError, match="client key is configured without its certificate"):
        load_client_config(environ={"LS_USER_KEY": str(key)}, config_paths=())


def test_token_from_env_then_token_file(tmp_path: Path, system: Path) -> None:
    token_file = tmp_path / "token.json"
    token_file.write_text(json.dumps({"token": "from-file"}))
    conf(system, **{"token-file": str(token_file)})
    assert load_client_config(environ={}, config_paths=(system,)).token == "from-file"
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"token": "from-env-file"}))
    env = {"LS_TOKEN_FILE": str(other)}
    assert load_client_config(environ=env, config_paths=(system,)).token == "from-env-file"
    env["LS_TOKEN"] = "from-env"
    assert load_client_config(environ=env, config_paths=(system,)).token == "from-env"


def test_a_token_loses_its_line_end_and_never_shows(tmp_path: Path) -> None:
    """A Kubernetes secret made --from-file, or echo, ends the token with a newline."""
    assert load_client_config(environ={"LS_TOKEN": "s3cret\n"}, config_paths=()).token == "s3cret"
    token_file = tmp_path / "token.json"
    token_file.write_text(json.dumps({"token": " s3cret\n"}))
    config = load_client_config(environ={"LS_TOKEN_FILE": str(token_file)}, config_paths=())
    assert config.token == "s3cret" and "s3cret" not in repr(config)


@pytest.mark.parametrize("token", ["s3c ret", "s3c\tret", "s3\x07cret"])
def test_a_token_with_spaces_or_control_characters_is_refused_without_showing_it(token: str) -> None:
    with pytest.raises(ConfigError, match="the token from LS_TOKEN holds spaces or control characters") as info:
        load_client_config(environ={"LS_TOKEN": token}, config_paths=())
    assert "s3" not in str(info.value)


@pytest.mark.parametrize("content", ["not json", "[]", "{}", '{"token": ""}', '{"token": 5}'])
def test_a_bad_token_file_says_what_it_should_hold(tmp_path: Path, content: str) -> None:
    token_file = tmp_path / "token.json"
    token_file.write_text(content)
    with pytest.raises(ConfigError, match=str(token_file)) as info:
        load_client_config(environ={"LS_TOKEN_FILE": str(token_file)}, config_paths=())
    assert '{"token": "..."}' in info.value.correction


def test_no_controllers_is_refused() -> None:
    with pytest.raises(ConfigError, match="no LINSTOR controller configured"):
        ClientConfig(controllers=())


def test_default_paths_are_the_linstor_clients() -> None:
    assert [str(p) for p in DEFAULT_PATHS] == ["~/.config/linstor/linstor-client.conf",
                                               "/etc/linstor/linstor-client.conf"]


def test_local_node_name() -> None:
    assert local_node_name({"LS_NODE_NAME": "node-a"}) == "node-a"
    assert local_node_name({}) == os.uname().nodename


def test_unreadable_drop_in_directory_counts_as_absent(tmp_path, monkeypatch) -> None:
    """A service user whose HOME points at a directory it may not read still gets the default."""
    conf = tmp_path / "linstor-client.conf"

    def refuse(self, pattern):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "glob", refuse)
    config = load_client_config(environ={}, config_paths=[conf])
    assert config.controllers == ("http://localhost:3370",)


def test_a_config_path_that_cannot_be_read_counts_as_absent(tmp_path) -> None:
    """Missing, a directory, or not readable (as configparser's read() treats them): skipped,
    and the next path or the default decides."""
    (tmp_path / "a-directory.conf").mkdir()
    other = tmp_path / "other.conf"
    other.write_text("[global]\ncontrollers = linstor://ctrl9\n")
    config = load_client_config(environ={}, config_paths=[tmp_path / "missing.conf", tmp_path / "a-directory.conf",
                                                          other])
    assert config.controllers == ("http://ctrl9:3370",)
    assert load_client_config(environ={}, config_paths=[tmp_path / "missing.conf"]).controllers == (
        "http://localhost:3370",)


def test_a_bare_ipv6_address_is_told_to_use_brackets() -> None:
    with pytest.raises(ConfigError) as info:
        normalize_controller_url("fd00::1")
    assert "linstor://[fd00::1]" in info.value.correction


def test_a_password_in_a_uri_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        normalize_controller_url("http://admin:hunter2@ctl:3370")
    assert "hunter2" not in str(info.value) and "***@ctl:3370" in str(info.value)
