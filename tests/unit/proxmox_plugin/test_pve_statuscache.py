"""The status cache is shared through a file and expires after ``statuscache`` seconds."""

from __future__ import annotations

from pathlib import Path

from linstor_core.models import Capacity
from proxmox_plugin.statuscache import StatusCache

CAP = Capacity(max_volume_size_kib=1, available_size_kib=2, capacity_kib=3)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_second_process_reads_the_first_ones_answer(tmp_path: Path) -> None:
    clock = Clock()
    fetched: list[int] = []

    def fetch() -> Capacity:
        fetched.append(1)
        return CAP

    assert StatusCache(tmp_path, 60, clock).get("k", fetch) == CAP
    assert StatusCache(tmp_path, 60, clock).get("k", fetch) == CAP
    assert len(fetched) == 1
    clock.now += 61
    StatusCache(tmp_path, 60, clock).get("k", fetch)
    assert len(fetched) == 2


def test_keys_do_not_share_and_zero_disables(tmp_path: Path) -> None:
    calls: list[str] = []
    cache = StatusCache(tmp_path, 60)
    cache.get("a", lambda: calls.append("a") or CAP)
    cache.get("b", lambda: calls.append("b") or CAP)
    off = StatusCache(tmp_path, 0)
    off.get("a", lambda: calls.append("off") or CAP)
    assert calls == ["a", "b", "off"]


def test_a_broken_file_is_a_miss(tmp_path: Path) -> None:
    cache = StatusCache(tmp_path, 60)
    cache.get("k", lambda: CAP)
    (file,) = tmp_path.glob("status-*.json")
    file.write_text("{not json")
    assert cache.get("k", lambda: Capacity(7, 8, 9)) == Capacity(7, 8, 9)
    assert not list(tmp_path.glob(".status-*"))
