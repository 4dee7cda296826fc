"""Decoding oned's documents: strict base64, no DOCTYPE, clear refusals naming the field."""

from __future__ import annotations

import base64
import time

import pytest

from linstor_core.errors import InvalidInput
from opennebula_driver.xmldoc import decode_base64, parse_driver_action, parse_vm

ACTION = (
    "<DS_DRIVER_ACTION_DATA><IMAGE><ID>7</ID><NAME>ubuntu 24.04</NAME><SIZE>40</SIZE>"
    "<PATH>/var/tmp/u.img</PATH><SOURCE></SOURCE><FORMAT>raw</FORMAT><FS></FS>"
    "<TARGET_SNAPSHOT>2</TARGET_SNAPSHOT><TEMPLATE><MD5>abc</MD5><SHA1>def</SHA1></TEMPLATE></IMAGE>"
    "<DATASTORE><ID>100</ID><NAME>linstor</NAME><BASE_PATH>/var/lib/one/datastores/100</BASE_PATH>"
    "<TM_MAD>linstor</TM_MAD><TEMPLATE><LINSTOR_RESOURCE_GROUP>gold</LINSTOR_RESOURCE_GROUP>"
    "<SAFE_DIRS>/var/tmp</SAFE_DIRS></TEMPLATE></DATASTORE></DS_DRIVER_ACTION_DATA>"
)


def b64(text: str) -> bytes:
    return base64.b64encode(text.encode())


def test_driver_action_fields() -> None:
    action = parse_driver_action(b64(ACTION), need_image=True)
    assert action.image is not None
    assert (action.image.id, action.image.name, action.image.size_mib) == (7, "ubuntu 24.04", 40)
    assert action.image.target_snapshot == 2 and (action.image.md5, action.image.sha1) == ("abc", "def")
    assert action.datastore.id == 100
    assert action.datastore.template["LINSTOR_RESOURCE_GROUP"] == "gold"


def test_line_wrapped_base64_is_accepted() -> None:
    wrapped = base64.encodebytes(ACTION.encode())
    assert b"\n" in wrapped.strip()
    assert parse_driver_action(wrapped, need_image=True).image.id == 7  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "encoded, reason",
    [
        (b"", "empty"),
        (b"not base64 at all!", "not base64"),
        (b64(ACTION)[:-7], "base64"),  # truncated: padding broken
        (b64(ACTION[: len(ACTION) // 2]), "well-formed"),  # truncated XML, valid base64
        (b64("<!DOCTYPE x [<!ENTITY a 'b'>]><DS_DRIVER_ACTION_DATA/>"), "DOCTYPE"),
        (b64("<?xml version='1.0'?>\n<!-- oned -->\n<!doctype x><DS_DRIVER_ACTION_DATA/>"), "DOCTYPE"),
        (b64("\ufeff<!DOCTYPE x><DS_DRIVER_ACTION_DATA/>"), "DOCTYPE"),
        (b64("<DS_DRIVER_ACTION_DATA><!DOCTYPE x></DS_DRIVER_ACTION_DATA>"), "well-formed"),
        (b64("<DS_DRIVER_ACTION_DATA>&undeclared;</DS_DRIVER_ACTION_DATA>"), "well-formed"),
        (base64.b64encode("<!DOCTYPE x [<!ENTITY e 'x'>]><DS_DRIVER_ACTION_DATA/>".encode("utf-16")), "not UTF-8"),
        (base64.b64encode("<!DOCTYPE x [<!ENTITY e 'x'>]><DS_DRIVER_ACTION_DATA/>".encode("utf-16-le")), "NUL"),
        (base64.b64encode(b"<DS_DRIVER_ACTION_DATA>\xff</DS_DRIVER_ACTION_DATA>"), "not UTF-8"),
        (b64("<IMAGE><ID>1</ID></IMAGE>"), "root element"),
        (b64("<DS_DRIVER_ACTION_DATA><IMAGE><ID>1</ID></IMAGE></DS_DRIVER_ACTION_DATA>"), "DATASTORE"),
    ],
)
def test_bad_documents_are_refused(encoded: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_driver_action(encoded, need_image=True)


def test_image_without_id_is_refused() -> None:
    doc = ACTION.replace("<ID>7</ID>", "")
    with pytest.raises(InvalidInput, match="IMAGE/ID"):
        parse_driver_action(b64(doc), need_image=True)


def test_stats_document_is_the_path_alone() -> None:
    """ImageManager::stat_image sends ``<IMAGE><PATH>...</PATH></IMAGE>``: no ID, as the image
    is not made yet."""
    doc = ("<DS_DRIVER_ACTION_DATA><IMAGE><PATH>/var/tmp/a &amp; b.img</PATH></IMAGE>"
           "<DATASTORE><ID>1</ID></DATASTORE></DS_DRIVER_ACTION_DATA>")
    image = parse_driver_action(b64(doc), need_image=True, need_image_id=False).image
    assert image is not None and (image.id, image.path) == (None, "/var/tmp/a & b.img")
    with pytest.raises(InvalidInput, match="IMAGE/ID"):
        parse_driver_action(b64(doc), need_image=True)


def test_missing_image_only_matters_when_needed() -> None:
    doc = "<DS_DRIVER_ACTION_DATA><DATASTORE><ID>1</ID></DATASTORE></DS_DRIVER_ACTION_DATA>"
    assert parse_driver_action(b64(doc), need_image=False).image is None
    with pytest.raises(InvalidInput, match="IMAGE"):
        parse_driver_action(b64(doc), need_image=True)


def test_size_in_wrong_units_is_refused() -> None:
    with pytest.raises(InvalidInput, match="IMAGE/SIZE"):
        parse_driver_action(b64(ACTION.replace("<SIZE>40</SIZE>", "<SIZE>40G</SIZE>")), need_image=True)


def test_vm_with_one_disk_and_with_many() -> None:
    one = "<VM><ID>22</ID><NAME>web</NAME><TEMPLATE><DISK><DISK_ID>0</DISK_ID><CLONE>NO</CLONE>" \
          "<SOURCE>one-img7-u</SOURCE><TM_MAD>linstor</TM_MAD></DISK>" \
          "<CONTEXT><DISK_ID>3</DISK_ID></CONTEXT></TEMPLATE></VM>"
    vm = parse_vm(b64(one))
    assert (vm.id, vm.name, vm.context_disk_id) == (22, "web", 3)
    assert vm.disk(0) is not None and not vm.disk(0).clone  # type: ignore[union-attr]
    many = one.replace("</DISK>", "</DISK><DISK><DISK_ID>1</DISK_ID><SIZE>512</SIZE></DISK>", 1)
    vm = parse_vm(b64(many))
    assert [d.disk_id for d in vm.disks] == [0, 1] and vm.disk(1).size_mib == 512  # type: ignore[union-attr]
    assert vm.disk(9) is None


def test_a_value_holding_doctype_text_is_read_as_text() -> None:
    """oned puts template values in CDATA; a context script writing HTML is an ordinary VM."""
    script = "<!DOCTYPE html><html><!ENTITY no></html>"
    doc = f"<?xml version='1.0'?><!-- c --><VM><ID>5</ID><NAME>web</NAME><TEMPLATE><CONTEXT><DISK_ID>1</DISK_ID>" \
          f"<START_SCRIPT><![CDATA[{script}]]></START_SCRIPT></CONTEXT></TEMPLATE></VM>"
    vm = parse_vm(b64(doc))
    assert (vm.id, vm.name, vm.context_disk_id) == (5, "web", 1)


def test_a_long_run_of_whitespace_before_the_root_is_read_quickly() -> None:
    """The prolog check must not backtrack exponentially (24 spaces took 0.8 s with \\s+)."""
    started = time.perf_counter()
    with pytest.raises(InvalidInput, match="well-formed"):
        parse_vm(b64(" " * 4000 + "<VM"))
    assert time.perf_counter() - started < 1.0


def test_decode_keeps_bytes() -> None:
    assert decode_base64(b64("x"), "thing") == b"x"
