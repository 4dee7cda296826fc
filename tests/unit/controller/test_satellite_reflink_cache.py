"""``Satellite.supports_reflink``: probed once per pool directory, never behind the satellite lock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from linstor_core.controller.providers.file_thin import FileThinProvider
from linstor_core.controller.satellite import PoolSpec, Satellite


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    seen: list[Path] = []

    def probe(self: FileThinProvider, directory: Path) -> bool:
        seen.append(directory)
        return True

    monkeypatch.setattr(FileThinProvider, "can_reflink", probe)
    return seen


def test_reflink_answer_is_probed_once_per_directory(tmp_path: Path, probes: list[Path]) -> None:
    sat = Satellite(tmp_path / "state", use_loop=False)
    thin = PoolSpec("n1", "thin", "FILE_THIN", tmp_path / "thin")
    other = PoolSpec("n2", "thin", "FILE_THIN", tmp_path / "other")
    sat.check_pool(thin)
    sat.check_pool(other)
    for _ in range(3):
        assert sat.supports_reflink(thin) is True
        assert sat.supports_reflink(other) is True
    assert probes == [(tmp_path / "thin").resolve(), (tmp_path / "other").resolve()]


def test_pool_create_probes_again(tmp_path: Path, probes: list[Path]) -> None:
    sat = Satellite(tmp_path / "state", use_loop=False)
    thin = PoolSpec("n1", "thin", "FILE_THIN", tmp_path / "thin")
    sat.check_pool(thin)
    assert sat.supports_reflink(thin)
    sat.check_pool(thin)
    assert sat.supports_reflink(thin)
    assert len(probes) == 2


def test_reflink_answer_does_not_wait_for_the_satellite_lock(tmp_path: Path, probes: list[Path]) -> None:
    """A full copy holds the lock for its whole duration; a GET of the pools must not wait."""
    sat = Satellite(tmp_path / "state", use_loop=False)
    thin = PoolSpec("n1", "thin", "FILE_THIN", tmp_path / "thin")
    sat.check_pool(thin)
    held, release = threading.Event(), threading.Event()

    def long_copy() -> None:
        with sat._lock:
            held.set()
            release.wait(10)

    copier = threading.Thread(target=long_copy)
    copier.start()
    try:
        assert held.wait(5)
        answers: list[bool] = []
        reader = threading.Thread(target=lambda: answers.append(sat.supports_reflink(thin)))
        reader.start()
        reader.join(2)
        assert answers == [True]
    finally:
        release.set()
        copier.join()
