"""Volume data is private: what the controller makes is 0600 (files) and 0700 (directories),
whatever the umask, which is never changed (the controller runs inside other processes)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from linstor_core.controller.providers import modes, reflink
from linstor_core.controller.providers.file import FileProvider
from linstor_core.controller.providers.file_thin import FileThinProvider
from linstor_core.controller.providers.layout import MadeFiles, staged
from linstor_core.controller.satellite import PoolSpec, Satellite, VolumeSpec
from linstor_core.controller.server import ControllerServer
from linstor_core.controller.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


@pytest.mark.usefixtures("umask")
@pytest.mark.parametrize("kind", ["FILE", "FILE_THIN"])
def test_pool_directories_and_images_are_private(tmp_path: Path, kind: str) -> None:
    sat = Satellite(tmp_path / "state", use_loop=False)
    pool = PoolSpec("n1", "pool", kind, None)
    sat.check_pool(pool)
    directory = sat.pool_directory(pool)
    for made in (directory, *[p for p in directory.parents if tmp_path in p.parents]):
        assert mode(made) == 0o700, made
    sat.create_volume(pool, VolumeSpec("vm1", 0, 1024))
    assert mode(directory / "vm1_00000.img") == 0o600
    assert mode(tmp_path / "state" / "made-files.jsonl") == 0o600
    assert os.stat(directory / "vm1_00000.img").st_uid == os.geteuid()


@pytest.mark.usefixtures("umask")
def test_full_copies_and_staged_files_are_private(tmp_path: Path) -> None:
    source = tmp_path / "src.img"
    FileProvider().allocate(source, 8192)
    assert mode(source) == 0o600
    with staged(tmp_path / "copy.img") as temp:
        FileProvider().copy_data(source, temp)
        assert mode(temp) == 0o600
    assert mode(tmp_path / "copy.img") == 0o600
    FileThinProvider().allocate(tmp_path / "thin.img", 8192)
    assert mode(tmp_path / "thin.img") == 0o600


@pytest.mark.usefixtures("umask")
def test_reflink_copies_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reflink.fcntl, "ioctl", lambda fd, request, arg: 0)
    (tmp_path / "src.img").write_bytes(b"")
    FileThinProvider().copy_data(tmp_path / "src.img", tmp_path / "dst.img")
    assert mode(tmp_path / "dst.img") == 0o600


@pytest.mark.usefixtures("umask")
def test_made_files_compacted_stays_private(tmp_path: Path) -> None:
    made = MadeFiles(tmp_path / "state" / "made-files.jsonl")
    made.made(tmp_path / "a.img")
    assert mode(tmp_path / "state") == 0o700
    made._compact()
    assert mode(made.path) == 0o600


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    existing = tmp_path / "operator"
    existing.mkdir()
    os.chmod(existing, 0o755)
    modes.make_dirs(existing / "pool")
    assert mode(existing) == 0o755
    assert mode(existing / "pool") == 0o700


@pytest.mark.usefixtures("umask")
def test_state_directory_and_database_are_private(tmp_path: Path) -> None:
    with ControllerServer(tmp_path / "state", "127.0.0.1", 0):
        assert mode(tmp_path / "state") == 0o700
        made = [name for name in os.listdir(tmp_path / "state")
                if name.startswith("controller.sqlite3")]
        assert "controller.sqlite3-wal" in made
        for name in made:
            assert mode(tmp_path / "state" / name) == 0o600, name


def test_a_store_opened_without_the_server_is_private(tmp_path: Path) -> None:
    """Code that builds a Controller (or Store) directly gets the same private database."""
    store = Store(tmp_path / "state" / "db.sqlite3")
    store.open()
    try:
        assert mode(tmp_path / "state") == 0o700
        for name in os.listdir(tmp_path / "state"):
            assert mode(tmp_path / "state" / name) == 0o600, name
    finally:
        store.close()


def test_the_umask_is_not_changed(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        FileProvider().allocate(tmp_path / "a.img", 4096)
        modes.make_dirs(tmp_path / "d" / "e")
        assert os.umask(0o027) == 0o027
    finally:
        os.umask(old)


@pytest.mark.skipif(os.geteuid() != 0, reason="the other tests already run as the file owner")
def test_private_as_an_unprivileged_owner() -> None:
    """As root the tests above run as root; here a forked child is an ordinary user."""
    home = Path(tempfile.mkdtemp(prefix="modes-"))
    os.chown(home, 65534, 65534)
    try:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                os.umask(0o022)
                sat = Satellite(home / "state", use_loop=False)
                pool = PoolSpec("n1", "pool", "FILE", None)
                sat.check_pool(pool)
                sat.create_volume(pool, VolumeSpec("vm1", 0, 1024))
                code = 0
            finally:
                os._exit(code)
        assert os.waitpid(pid, 0)[1] == 0
        image = home / "state" / "nodes" / "n1" / "pools" / "pool" / "vm1_00000.img"
        assert os.stat(image).st_uid == 65534
        assert mode(image) == 0o600
        assert mode(image.parent) == mode(home / "state") == 0o700
        assert mode(home / "state" / "made-files.jsonl") == 0o600
    finally:
        shutil.rmtree(home)
