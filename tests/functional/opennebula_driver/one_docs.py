"""OpenNebula documents as oned writes them, for driving the driver like oned does.

Shapes follow OpenNebula's XML schemas (share/doc/xsd: vm.xsd, image.xsd, datastore.xsd) and
the DS driver action oned builds (``DS_DRIVER_ACTION_DATA`` = ``<IMAGE>`` + ``<DATASTORE>``).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape


def _template(attrs: Mapping[str, object]) -> str:
    return "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in attrs.items())


def datastore_xml(ds_id: int, template: Mapping[str, object], *, name: str = "linstor", ds_type: int = 0,
                  tm_mad: str = "linstor", disk_type: int = 2) -> str:
    """``<DATASTORE>`` set up as the README says: DISK_TYPE BLOCK (2) and, unless ``template``
    says otherwise, CONTEXT_DISK_TYPE BLOCK."""
    template = {"CONTEXT_DISK_TYPE": "BLOCK", **template}
    return (
        f"<DATASTORE><ID>{ds_id}</ID><UID>0</UID><GID>0</GID><UNAME>oneadmin</UNAME><GNAME>oneadmin</GNAME>"
        f"<NAME>{escape(name)}</NAME><PERMISSIONS><OWNER_U>1</OWNER_U><OWNER_M>1</OWNER_M><OWNER_A>0</OWNER_A>"
        "<GROUP_U>1</GROUP_U><GROUP_M>0</GROUP_M><GROUP_A>0</GROUP_A><OTHER_U>0</OTHER_U><OTHER_M>0</OTHER_M>"
        f"<OTHER_A>0</OTHER_A></PERMISSIONS><DS_MAD><![CDATA[linstor]]></DS_MAD><TM_MAD><![CDATA[{tm_mad}]]></TM_MAD>"
        f"<BASE_PATH><![CDATA[/var/lib/one//datastores/{ds_id}]]></BASE_PATH><TYPE>{ds_type}</TYPE>"
        f"<DISK_TYPE>{disk_type}</DISK_TYPE><STATE>0</STATE><CLUSTERS><ID>0</ID></CLUSTERS><TOTAL_MB>0</TOTAL_MB>"
        "<FREE_MB>0</FREE_MB><USED_MB>0</USED_MB><IMAGES></IMAGES>"
        f"<TEMPLATE>{_template(template)}</TEMPLATE></DATASTORE>"
    )


def image_xml(image_id: int, name: str, *, users: Sequence[int] = (), **fields: object) -> str:
    """``<IMAGE>``: ID, NAME, SIZE (MiB), PATH, SOURCE, FORMAT, FS, TARGET_SNAPSHOT, CLONING_ID...;
    ``users``: the VMs using it (``RUNNING_VMS`` and ``VMS/ID``, as oned counts them)."""
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items() if k != "TEMPLATE")
    template = _template(fields.get("TEMPLATE", {}))  # type: ignore[arg-type]
    vms = "".join(f"<ID>{vm_id}</ID>" for vm_id in users)
    return (
        f"<IMAGE><ID>{image_id}</ID><UID>0</UID><GID>0</GID><UNAME>oneadmin</UNAME><GNAME>oneadmin</GNAME>"
        f"<NAME><![CDATA[{name}]]></NAME><TYPE>0</TYPE><DISK_TYPE>2</DISK_TYPE><PERSISTENT>0</PERSISTENT>"
        f"<STATE>{2 if users else 1}</STATE><RUNNING_VMS>{len(users)}</RUNNING_VMS>{body}"
        f"<VMS>{vms}</VMS><TEMPLATE>{template}</TEMPLATE></IMAGE>"
    )


def stat_image_xml(path: object) -> str:
    """The ``<IMAGE>`` oned sends ``ds stat`` (ImageManager::stat_image): the PATH alone, as the
    image is not made yet; the action's argument is then a request id, not an image id."""
    return f"<IMAGE><PATH>{escape(str(path))}</PATH></IMAGE>"


def driver_action(image: str | None, datastore: str) -> bytes:
    """The base64 ``DS_DRIVER_ACTION_DATA`` oned passes on stdin (or as an argument)."""
    xml = f"<DS_DRIVER_ACTION_DATA>{image or ''}{datastore}</DS_DRIVER_ACTION_DATA>"
    return base64.b64encode(xml.encode())


def vm_xml(vm_id: int, name: str, disks: Sequence[Mapping[str, object]], *, host: str = "node-a",
           context: Mapping[str, object] | None = None, state: int = 3, lcm_state: int = 3,
           hosts: Sequence[str] = ()) -> str:
    """``<VM>`` (ACTIVE/RUNNING unless told) with one history record per host in ``hosts``
    (default: ``host`` alone), oldest first."""
    disk_xml = "".join(f"<DISK>{_template(d)}</DISK>" for d in disks)
    context_xml = f"<CONTEXT>{_template(context)}</CONTEXT>" if context else ""
    history = "".join(f"<HISTORY><OID>{vm_id}</OID><SEQ>{seq}</SEQ><HOSTNAME>{escape(on)}</HOSTNAME>"
                      "<TM_MAD>linstor</TM_MAD><DS_ID>0</DS_ID></HISTORY>"
                      for seq, on in enumerate(hosts or (host,)))
    return (
        f"<VM><ID>{vm_id}</ID><UID>0</UID><GID>0</GID><UNAME>oneadmin</UNAME><GNAME>oneadmin</GNAME>"
        f"<NAME>{escape(name)}</NAME><LAST_POLL>0</LAST_POLL><STATE>{state}</STATE><LCM_STATE>{lcm_state}</LCM_STATE>"
        f"<PREV_STATE>3</PREV_STATE><PREV_LCM_STATE>3</PREV_LCM_STATE><RESCHED>0</RESCHED><STIME>0</STIME>"
        f"<ETIME>0</ETIME><DEPLOY_ID></DEPLOY_ID><TEMPLATE>{disk_xml}{context_xml}"
        f"<VMID><![CDATA[{vm_id}]]></VMID></TEMPLATE><USER_TEMPLATE></USER_TEMPLATE>"
        f"<HISTORY_RECORDS>{history}</HISTORY_RECORDS></VM>"
    )


def b64(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()
