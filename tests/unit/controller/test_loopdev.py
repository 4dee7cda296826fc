"""losetup is driven with argument lists, and its JSON listing is read as the kernel reports it."""

from __future__ import annotations

from pathlib import Path

import pytest

from linstor_core.controller import loopdev
from linstor_core.errors import StorageError
from linstor_core.runner import FakeRunner

LISTING = """{
   "loopdevices": [
      {"name": "/dev/loop0", "sizelimit": 0, "offset": 0, "autoclear": false, "ro": false,
       "back-file": "/pool/a_00000.img", "dio": false, "log-sec": 512},
      {"name": "/dev/loop1", "sizelimit": 0, "offset": 0, "autoclear": true, "ro": false,
       "back-file": "/pool/b_00000.img (deleted)", "dio": false, "log-sec": 512}
   ]
}"""


def test_parse_list_reads_devices_and_deleted_backing_files() -> None:
    assert loopdev.parse_list(LISTING) == [
        loopdev.LoopDevice("/dev/loop0", "/pool/a_00000.img"),
        loopdev.LoopDevice("/dev/loop1", "/pool/b_00000.img", deleted=True),
    ]


@pytest.mark.parametrize("text", ["", "\n", '{"loopdevices": []}'])
def test_parse_list_of_nothing_is_empty(text: str) -> None:
    assert loopdev.parse_list(text) == []


@pytest.mark.parametrize("text", ["not json", "[]", '{"loopdevices": [{"back-file": "/x"}]}'])
def test_parse_list_refuses_garbage(text: str) -> None:
    with pytest.raises(StorageError, match="unreadable"):
        loopdev.parse_list(text)


def test_list_devices_asks_losetup_for_json() -> None:
    runner = FakeRunner().expect(["losetup", "--json", "--list"], LISTING)
    assert [d.name for d in loopdev.list_devices(runner)] == ["/dev/loop0", "/dev/loop1"]
    runner.assert_done()


def test_attach_reuses_a_device_already_serving_the_file() -> None:
    runner = FakeRunner().expect(["losetup", "--nooverlap", "--find", "--show", "/pool/a.img"], "/dev/loop4\n")
    assert loopdev.attach(Path("/pool/a.img"), runner) == "/dev/loop4"
    runner.assert_done()


def test_attach_at_a_given_device() -> None:
    runner = FakeRunner().expect(["losetup", "/dev/loop4", "/pool/a.img"])
    assert loopdev.attach(Path("/pool/a.img"), runner, device="/dev/loop4") == "/dev/loop4"
    runner.assert_done()


def test_a_missing_device_is_not_busy(tmp_path: Path) -> None:
    assert loopdev.is_busy(str(tmp_path / "loop99")) is False


def test_detach_refresh_and_flush_commands() -> None:
    runner = (
        FakeRunner()
        .expect(["losetup", "--set-capacity", "/dev/loop4"])
        .expect(["blockdev", "--flushbufs", "/dev/loop4"])
        .expect(["losetup", "--detach", "/dev/loop4"])
    )
    loopdev.refresh_size("/dev/loop4", runner)
    loopdev.flush("/dev/loop4", runner)
    loopdev.detach("/dev/loop4", runner)
    runner.assert_done()
