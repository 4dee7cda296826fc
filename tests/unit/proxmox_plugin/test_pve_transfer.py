"""PVE's raw+size stream: what is offered, what is refused, the header."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from linstor_core.errors import InvalidInput
from proxmox_plugin import transfer


def test_raw_size_is_offered_for_the_volume_as_it_is_only() -> None:
    assert transfer.export_formats("vm-100-disk-0") == ["raw+size"]
    for unset in (0, "0", "", [], None):  # storage_migrate's -with-snapshots 0, as older Perl sends it
        assert transfer.export_formats("vm-100-disk-0", with_snapshots=unset) == ["raw+size"]
        transfer.check_request("raw+size", None, None, unset)
    for asked in ({"snapshot": "snap1"}, {"base_snapshot": "snap1"}, {"with_snapshots": 1},
                  {"with_snapshots": "1"}, {"with_snapshots": ["snap1"]}):
        assert transfer.export_formats("vm-100-disk-0", **asked) == []
    with pytest.raises(InvalidInput, match="invalid volname"):
        transfer.export_formats("../x")


def test_a_template_disk_is_exported_but_not_imported() -> None:
    """An import cannot make a template or a linked clone: no format, so PVE finds another way."""
    for volname in ("base-100-disk-0", "base-100-disk-0/vm-101-disk-0"):
        assert transfer.export_formats(volname) == ["raw+size"]
        assert transfer.import_formats(volname) == []
    assert transfer.import_formats("vm-101-disk-0") == ["raw+size"]


@pytest.mark.parametrize(("asked", "field"), [
    ({"format": "zfs"}, "format"), ({"format": "qcow2+size"}, "format"),
    ({"snapshot": "s"}, "snapshot"), ({"base_snapshot": "s"}, "base_snapshot"),
    ({"with_snapshots": True}, "with_snapshots"),
])
def test_what_is_not_offered_is_refused_by_name(asked: dict[str, object], field: str) -> None:
    request = {"format": "raw+size", "snapshot": None, "base_snapshot": None, "with_snapshots": None, **asked}
    with pytest.raises(InvalidInput) as refused:
        transfer.check_request(**request)  # type: ignore[arg-type]
    assert refused.value.field == field


@pytest.mark.parametrize("value", [None, True, 0, 1, 2, -1, "7", 3.0])
def test_the_data_descriptor_must_be_one_of_its_own(value: object) -> None:
    with pytest.raises(InvalidInput, match="data_fd"):
        transfer.data_fd(value, reading=True)


def test_a_closed_descriptor_or_a_directory_is_refused(tmp_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    os.close(read_fd)
    with pytest.raises(InvalidInput, match="is not open"):
        transfer.data_fd(read_fd, reading=True)
    directory = os.open(tmp_path, os.O_RDONLY)
    try:
        with pytest.raises(InvalidInput, match="is a directory"):
            transfer.data_fd(directory, reading=True)
    finally:
        os.close(directory)


def test_the_descriptor_must_be_open_the_way_the_stream_goes(tmp_path: Path) -> None:
    with open(tmp_path / "f", "wb") as written, open(tmp_path / "f", "rb") as read:
        assert transfer.data_fd(written.fileno(), reading=False) == written.fileno()
        assert transfer.data_fd(read.fileno(), reading=True) == read.fileno()
        with pytest.raises(InvalidInput, match="not open for reading"):
            transfer.data_fd(written.fileno(), reading=True)
        with pytest.raises(InvalidInput, match="not open for writing"):
            transfer.data_fd(read.fileno(), reading=False)


def test_send_writes_the_size_then_the_bytes(tmp_path: Path) -> None:
    device = tmp_path / "dev"
    device.write_bytes(b"disk data" + bytes(1000))
    with open(tmp_path / "stream", "wb") as stream:
        transfer.send(str(device), stream.fileno(), lambda line: None)
    sent = (tmp_path / "stream").read_bytes()
    assert sent[:8] == struct.pack("<Q", 1009) and sent[8:] == device.read_bytes()
    with open(tmp_path / "stream", "rb", buffering=0) as stream:
        assert transfer.received_size(stream.fileno()) == 1009


@pytest.mark.parametrize(("header", "message"), [
    (b"", "too short"), (b"\x01\x02\x03", "too short"), (struct.pack("<Q", 0), "empty volume"),
])
def test_a_bad_header_is_refused(tmp_path: Path, header: bytes, message: str) -> None:
    (tmp_path / "stream").write_bytes(header)
    with open(tmp_path / "stream", "rb", buffering=0) as stream, pytest.raises(InvalidInput, match=message):
        transfer.received_size(stream.fileno())
