"""oned's documents -> records: base64 decoding and XML parsing that refuse anything unexpected.

oned hands drivers base64-encoded XML (the DS driver action, the VM template on migrations),
and its ``one.*.info`` calls answer with the same documents (see :mod:`opennebula_driver.oned`):
one reader per element serves both.
``xml.etree`` never fetches external entities but does expand internal ones, so any document
with a DOCTYPE (where entities are declared) is refused before parsing: oned never sends one.
A DOCTYPE can only stand in the prolog, before the root element (expat refuses one anywhere
else, and an entity that was not declared): only the prolog is looked at, so a value that
merely contains the text, such as a context script writing ``<!DOCTYPE html>`` (oned puts
template values in CDATA), is read as the text it is.
Each refusal is ``InvalidInput`` naming what was wrong, so the user reads it in Sunstone.
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from linstor_core.errors import InvalidInput
from opennebula_driver.records import Datastore, DriverAction, Image, Vm, VmDisk

# The prolog: an optional BOM, then whitespace, processing instructions (<?xml ...?>) and
# comments; a "<!" right after it is a DOCTYPE (a CDATA section there is not well-formed).
# One whitespace byte per repetition (\s+ inside the * backtracks exponentially on a long run).
_DECLARATION_IN_PROLOG = re.compile(rb"\A(?:\xef\xbb\xbf)?(?:\s|<\?.*?\?>|<!--.*?-->)*<!(?!--)", re.DOTALL)
_BASE64 = re.compile(rb"[A-Za-z0-9+/=\s]+")
_ACTION_ROOT = "DS_DRIVER_ACTION_DATA"


def decode_base64(text: str | bytes, what: str) -> bytes:
    """Strict base64 (line breaks allowed, as ``base64 -w76`` writes them)."""
    raw = text.encode() if isinstance(text, str) else text
    raw = raw.strip()
    if not raw:
        raise InvalidInput(what, "", "is empty: oned passes it base64-encoded on stdin or as an argument")
    if not _BASE64.fullmatch(raw):
        raise InvalidInput(what, raw[:40].decode(errors="replace"), "is not base64")
    try:
        return base64.b64decode(b"".join(raw.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInput(what, raw[:40].decode(errors="replace"), f"is not valid base64 ({error})") from None


def parse_xml(document: bytes, what: str) -> ET.Element:
    """Parse ``document``; refuse a DOCTYPE (where entities are declared) and malformed or
    truncated XML.

    oned writes UTF-8. Anything else is refused first: a UTF-16 document would hide its
    DOCTYPE from the byte check below (every other byte NUL), and expat would expand its
    entities.
    """
    try:
        document.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(what, document[:40].decode(errors="replace"), f"is not UTF-8 ({error.reason})") from None
    if b"\0" in document:
        raise InvalidInput(what, document[:40].decode(errors="replace"), "holds a NUL byte: not UTF-8 XML")
    if _DECLARATION_IN_PROLOG.match(document):
        raise InvalidInput(what, document[:40].decode(errors="replace"), "declares a DOCTYPE or ENTITY; refused")
    try:
        return ET.fromstring(document)
    except ET.ParseError as error:
        raise InvalidInput(what, document[:40].decode(errors="replace"), f"is not well-formed XML ({error})") from None


def to_dict(element: ET.Element) -> Any:
    """An element as pyone shapes templates: text for leaves, dicts, lists for repeated tags."""
    children = list(element)
    if not children:
        return (element.text or "").strip()
    result: dict[str, Any] = {}
    for child in children:
        value = to_dict(child)
        if child.tag in result:
            previous = result[child.tag]
            result[child.tag] = previous + [value] if isinstance(previous, list) else [previous, value]
        else:
            result[child.tag] = value
    return result


def text_at(element: ET.Element, path: str) -> str:
    """The stripped text at ``path`` under ``element``; "" when it is missing or empty."""
    found = element.find(path)
    return (found.text or "").strip() if found is not None and found.text else ""


def optional_int(value: object, field: str) -> int | None:
    """An integer attribute that may be missing or empty; anything else non-numeric is refused."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    if not re.fullmatch(r"-?\d+", text):
        raise InvalidInput(field, text, "must be a whole number")
    return int(text)


def required_int(value: object, field: str) -> int:
    """An integer attribute that must be present."""
    number = optional_int(value, field)
    if number is None:
        raise InvalidInput(field, "", "is missing")
    return number


def flat_template(template: object) -> dict[str, str]:
    """Single-valued template attributes as strings (vectors such as DISK are not needed here)."""
    if not isinstance(template, Mapping):
        return {}
    return {str(k): str(v).strip() for k, v in template.items() if isinstance(v, (str, int))}


_DISK_TYPES = {0: "FILE", 1: "CD_ROM", 2: "BLOCK", 3: "RBD"}
"""oned's ``Image::DiskType`` numbers, as ``<DATASTORE><DISK_TYPE>`` gives them."""


def datastore_from(element: ET.Element) -> Datastore:
    """A ``<DATASTORE>`` element (a driver action's, or ``one.datastore.info``'s answer)."""
    template = element.find("TEMPLATE")
    disk_type = optional_int(text_at(element, "DISK_TYPE"), "DATASTORE/DISK_TYPE")
    return Datastore(
        id=required_int(text_at(element, "ID"), "DATASTORE/ID"),
        name=text_at(element, "NAME"),
        base_path=text_at(element, "BASE_PATH"),
        tm_mad=text_at(element, "TM_MAD"),
        template=flat_template(to_dict(template) if template is not None else {}),
        disk_type="" if disk_type is None else _DISK_TYPES.get(disk_type, f"type {disk_type}"),
    )


def _vm_disk(disk: Mapping[str, Any]) -> VmDisk:
    clone = str(disk.get("CLONE", "YES") or "YES").upper() != "NO"
    return VmDisk(
        disk_id=required_int(disk.get("DISK_ID"), "DISK/DISK_ID"),
        source=str(disk.get("SOURCE", "") or ""),
        clone=clone,
        image_id=optional_int(disk.get("IMAGE_ID"), "DISK/IMAGE_ID"),
        tm_mad=str(disk.get("TM_MAD", "") or ""),
        size_mib=optional_int(disk.get("SIZE"), "DISK/SIZE"),
        save_as=optional_int(disk.get("SAVE_AS"), "DISK/SAVE_AS"),
        disk_type=str(disk.get("TYPE", "") or ""),
        fs=str(disk.get("FS", "") or ""),
        datastore_id=optional_int(disk.get("DATASTORE_ID"), "DISK/DATASTORE_ID"),
    )


def vm_from(element: ET.Element) -> Vm:
    """A ``<VM>`` element (a migration's template, or ``one.vm.info``'s answer)."""
    found = element.find("TEMPLATE")
    template = to_dict(found) if found is not None else {}
    template = template if isinstance(template, Mapping) else {}
    disks = template.get("DISK") or []
    if isinstance(disks, Mapping):
        disks = [disks]
    context = template.get("CONTEXT")
    context_id = optional_int(context.get("DISK_ID"), "CONTEXT/DISK_ID") if isinstance(context, Mapping) else None
    return Vm(
        id=required_int(text_at(element, "ID"), "VM/ID"),
        name=text_at(element, "NAME"),
        disks=tuple(_vm_disk(d) for d in disks if isinstance(d, Mapping)),
        context_disk_id=context_id,
        lcm_state=optional_int(text_at(element, "LCM_STATE"), "VM/LCM_STATE"),
        state=optional_int(text_at(element, "STATE"), "VM/STATE"),
        hosts=tuple((host.text or "").strip() for host in element.findall("HISTORY_RECORDS/HISTORY/HOSTNAME")),
    )


def parse_vm(encoded: str | bytes) -> Vm:
    """A base64 ``<VM>`` document, as premigrate and friends receive it."""
    root = parse_xml(decode_base64(encoded, "VM template"), "VM template")
    if root.tag != "VM":
        raise InvalidInput("VM template", root.tag, "root element must be VM")
    return vm_from(root)


def _image(element: ET.Element, *, need_id: bool) -> Image:
    image_id = text_at(element, "ID")
    return Image(
        id=required_int(image_id, "IMAGE/ID") if need_id else optional_int(image_id, "IMAGE/ID"),
        name=text_at(element, "NAME"),
        size_mib=optional_int(text_at(element, "SIZE"), "IMAGE/SIZE"),
        path=text_at(element, "PATH"),
        source=text_at(element, "SOURCE"),
        format=text_at(element, "FORMAT") or text_at(element, "TEMPLATE/FORMAT"),
        fstype=text_at(element, "FSTYPE") or text_at(element, "FS"),
        target_snapshot=optional_int(text_at(element, "TARGET_SNAPSHOT"), "IMAGE/TARGET_SNAPSHOT"),
        cloning_id=optional_int(text_at(element, "CLONING_ID"), "IMAGE/CLONING_ID"),
        md5=text_at(element, "TEMPLATE/MD5"),
        sha1=text_at(element, "TEMPLATE/SHA1"),
    )


def parse_driver_action(encoded: str | bytes, *, need_image: bool, need_image_id: bool = True) -> DriverAction:
    """A base64 ``DS_DRIVER_ACTION_DATA`` document; ``need_image`` for every action but monitor,
    ``need_image_id`` for every one but stat (oned sends it ``<IMAGE><PATH>...</PATH></IMAGE>``)."""
    root = parse_xml(decode_base64(encoded, "driver action"), "driver action")
    if root.tag != _ACTION_ROOT:
        raise InvalidInput("driver action", root.tag, f"root element must be {_ACTION_ROOT}")
    ds = root.find("DATASTORE")
    if ds is None:
        raise InvalidInput("driver action", _ACTION_ROOT, "has no DATASTORE element")
    datastore = datastore_from(ds)
    image_element = root.find("IMAGE")
    if image_element is None:
        if need_image:
            raise InvalidInput("driver action", _ACTION_ROOT, "has no IMAGE element")
        return DriverAction(datastore=datastore)
    return DriverAction(datastore=datastore, image=_image(image_element, need_id=need_image_id))
