"""Hypothesis strategies for bad input, one family per caller of the bundle.

Each mixes the shapes a platform really sends (known field names, the names of objects that
exist, well-formed volume names and host paths) with arbitrary text and bytes, so cases reach
past the first parser as well as failing in it. Nothing here can name a controller, a host or a
file outside the test's scratch directory: the controller URL and the hosts are fixed by the
tests, and every path is either under the sandbox or refused before it is used.
"""

from __future__ import annotations

import base64
from string import Formatter
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from fuzz_stack import datastore_xml, image_xml


def mostly(likely: st.SearchStrategy[Any], rarely: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``likely`` nine times in ten: ``a | b`` picks each half the time (and ``one_of`` drops
    repeated branches), so most cases would die in the first parser."""
    return st.integers(0, 9).flatmap(lambda n: rarely if n == 0 else likely)


# --- controller REST API -------------------------------------------------------------------

ROUTES = [
    ("GET", "/v1/nodes/{node}"), ("GET", "/v1/nodes/{node}/storage-pools/{pool}"),
    ("GET", "/v1/resource-definitions/{rd}"), ("GET", "/v1/resource-definitions/{rd}/resources/{node}"),
    ("GET", "/v1/resource-definitions/{rd}/volume-definitions/{vlm}"),
    ("GET", "/v1/resource-definitions/{rd}/snapshots/{snap}"), ("GET", "/v1/resource-groups/{group}"),
    ("GET", "/v1/resource-definitions/{rd}/clone/{rd2}"), ("GET", "/v1/view/resources"),
    ("GET", "/v1/view/snapshots"), ("GET", "/v1/view/storage-pools"), ("GET", "/v1/nodes"),
    ("GET", "/v1/resource-definitions"), ("GET", "/v1/{rd}"),
    ("POST", "/v1/nodes"), ("PUT", "/v1/nodes/{node}"), ("POST", "/v1/nodes/{node}/storage-pools"),
    ("POST", "/v1/resource-groups"), ("PUT", "/v1/resource-groups/{group}"),
    ("POST", "/v1/resource-groups/{group}/spawn"), ("POST", "/v1/resource-groups/{group}/query-size-info"),
    ("POST", "/v1/queries/resource-groups/query-all-size-info"),
    ("POST", "/v1/resource-definitions"), ("PUT", "/v1/resource-definitions/{rd}"),
    ("POST", "/v1/resource-definitions/{rd}/volume-definitions"),
    ("PUT", "/v1/resource-definitions/{rd}/volume-definitions/{vlm}"),
    ("POST", "/v1/resource-definitions/{rd}/resources"),
    ("POST", "/v1/resource-definitions/{rd}/resources/{node}"),
    ("POST", "/v1/resource-definitions/{rd}/resources/{node}/make-available"),
    ("POST", "/v1/resource-definitions/{rd}/autoplace"),
    ("POST", "/v1/resource-definitions/{rd}/snapshots"), ("POST", "/v1/resource-definitions/{rd}/clone"),
    ("POST", "/v1/resource-definitions/{rd}/snapshot-restore-resource/{snap}"),
    ("POST", "/v1/resource-definitions/{rd}/snapshot-restore-volume-definition/{snap}"),
    ("POST", "/v1/resource-definitions/{rd}/snapshot-rollback/{snap}"),
    ("DELETE", "/v1/resource-definitions/{rd}/snapshots/{snap}"),
    ("DELETE", "/v1/resource-definitions/{rd}/resources/{node}"),
    ("DELETE", "/v1/resource-definitions/{rd}/volume-definitions/{vlm}"),
    ("DELETE", "/v1/nodes/{node}/storage-pools/{pool}"),
    ("PATCH", "/v1/nodes/{node}"),
]
KEYS = ["name", "type", "net_interfaces", "storage_pool_name", "provider_kind", "props",
        "select_filter", "place_count", "resource_definition", "resource_definition_name",
        "volume_sizes", "volume_definition", "size_kib", "override_props", "delete_props",
        "delete_namespaces", "layer_data", "layer_stack", "nodes", "to_resource", "resource",
        "diskful", "definitions_only", "storage_pool", "replicas_on_same", "description",
        "node_name", "address", "snapshot_name", "volume_number", "flags", "diskless_on_remaining"]
KNOWN = ["alpha", "bravo", "fz", "s1", "rel", "DfltRscGrp", "thinpool", "DRBD", "STORAGE",
         "DISKLESS", "SATELLITE", "0", "1", "-1", "Aux/x", "nosuch"]
"""Existing objects and legal words, so some cases pass validation and fail further in."""

texts = st.text(max_size=10)
scalars = (st.none() | st.booleans() | st.integers(-2, 2**63) | st.floats(allow_nan=False, allow_infinity=False)
           | texts | st.sampled_from(KNOWN))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(mostly(st.sampled_from(KEYS), texts), inner, max_size=4),
                      max_leaves=5)
bodies = mostly(st.dictionaries(st.sampled_from(KEYS), values, max_size=5), st.lists(values, max_size=3) | scalars)
raw_bodies = st.binary(max_size=64) | st.sampled_from([b"{", b"[1,", b'{"name": "a"', b"\xff\xfe{}", b"null",
                                                 b'{"volume_definition": {"size_kib": Infinity}}', b"NaN"])

names = mostly(st.sampled_from(KNOWN), st.text(min_size=1, max_size=24))


@st.composite
def rest_requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """(method, path with fuzzed, percent-encoded names, keyword arguments for requests)."""
    method, template = draw(st.sampled_from(ROUTES))
    fill = {key: quote(draw(names), safe="") for _, key, _, _ in Formatter().parse(template) if key}
    path = template.format(**fill)
    params = draw(st.dictionaries(st.sampled_from(["offset", "limit", "nodes", "resources", "props",
                                                   "keep_tiebreaker", "with_volume_definitions"]),
                                  st.text(max_size=8) | st.sampled_from(["1", "-1", "true"]), max_size=2))
    if method == "GET":
        return method, path, {"params": params}
    if draw(st.integers(0, 9)) == 0:
        return method, path, {"params": params, "data": draw(raw_bodies),
                              "headers": {"Content-Type": "application/json"}}
    return method, path, {"params": params, "json": draw(bodies)}


# --- Docker volume plugin ------------------------------------------------------------------

ENDPOINTS = ["/VolumeDriver.Create", "/VolumeDriver.Remove", "/VolumeDriver.Mount",
             "/VolumeDriver.Unmount", "/VolumeDriver.Path", "/VolumeDriver.Get", "/VolumeDriver.List",
             "/VolumeDriver.Capabilities", "/Plugin.Activate", "/VolumeDriver.Nope"]
DOCKER_OPTIONS = ["size", "profile", "fs", "fsopts", "mountopts", "replicas", "storagepool", "nodes"]
option_values = (st.text(max_size=12) | st.integers(-5, 2**40) | st.none() | st.booleans()
                 | st.sampled_from(["8M", "1G", "0", "1P", "ext4", "xfs", "noatime", "-L x", "nosuch", "2"]))
docker_bodies = mostly(st.fixed_dictionaries({}, optional={
    "Name": mostly(st.sampled_from(["seeded", "fo", "seeded/..", "../x", "-o", "", "a" * 70]),
                   st.text(max_size=20) | values),
    "ID": mostly(st.sampled_from(["c1", "c2", ""]), st.text(max_size=8) | values),
    "Opts": mostly(st.dictionaries(mostly(st.sampled_from(DOCKER_OPTIONS), st.text(max_size=6)),
                                   option_values, max_size=4), values),
}), values)


# --- OpenNebula ds/tm ----------------------------------------------------------------------

DS_ACTIONS = ["cp", "mkfs", "clone", "rm", "monitor", "stat", "snap_delete", "snap_revert",
              "snap_flatten", "export"]


def one_argv(sandbox: str) -> st.SearchStrategy[list[str]]:
    """``KIND ACTION ARGS...``: mostly each argument of the kind oned puts there (ids, sizes,
    ``host:path`` under ``sandbox``, ``fe:SOURCE``), each itself mostly well-formed."""
    def role(*good: str) -> st.SearchStrategy[str]:
        return mostly(st.sampled_from(good), st.text(max_size=16))

    ident = role("0", "7", "100", "5", "-1", "")
    path = role(f"alpha:{sandbox}/0/7/disk.0", f"alpha:{sandbox}/0/7", f"alpha:{sandbox}/0/7/../7/disk.0",
                f"bravo:{sandbox}/0/7/disk.1", f"alpha:{sandbox}/0/7/disk.x", "alpha:relative/disk.0", "alpha")
    size = role("8", "1024", "0", "-1", "1G", "99999999999")
    source = role("fe:seeded", "fe:one-img5-ubuntu", "fe:", "seeded")
    host = role("alpha", "bravo", "", "-o")
    snap = role("0", "-1", "3", "x")
    tm_roles = {
        "ln": [source, path, ident, ident], "clone": [source, path, ident, ident],
        "mkimage": [size, role("raw", "ext4", "swap", "vfat", ""), path, ident, ident],
        "mkswap": [size, path, ident, ident], "delete": [path, ident, ident],
        "mv": [path, path, ident, ident], "mvds": [path, source, ident, ident],
        "cpds": [path, source, snap, ident, ident], "resize": [path, size, ident, ident],
        "premigrate": [host, host, path, ident, ident], "postmigrate": [host, host, path, ident, ident],
        "failmigrate": [host, host, path, ident, ident], "snap_create": [path, snap, ident, ident],
        "snap_create_live": [path, snap, ident, ident], "snap_delete": [path, snap, ident, ident],
        "snap_revert": [path, snap, ident, ident], "context": [role(f"{sandbox}/uploads/img.raw"), path, ident, ident],
    }
    ds_style = mostly(st.tuples(ident), st.tuples(role("-", "PERFVGFTVE9SRQ==", "x"), ident))
    noise = st.lists(st.text(max_size=12) | ident | path, max_size=7)

    @st.composite
    def argv(draw: st.DrawFn) -> list[str]:
        kind = draw(mostly(st.sampled_from(["ds", "tm"]), st.text(max_size=4)))
        actions = DS_ACTIONS if kind == "ds" else [*tm_roles, "monitor"]
        action = draw(mostly(st.sampled_from(actions), st.text(max_size=8)))
        roles = tm_roles.get(action) if kind == "tm" else None
        args = draw(mostly(st.tuples(*roles) if roles else ds_style, noise))
        return [kind, action, *args]

    return argv()


def one_stdin(template: dict[str, str], upload: str) -> st.SearchStrategy[bytes]:
    """oned's base64 ``DS_DRIVER_ACTION_DATA``, with fuzzed IMAGE fields, or garbage."""
    fields = st.fixed_dictionaries({}, optional={
        "PATH": st.sampled_from([upload, "/etc/passwd", "http://x/y", "", "fz"]) | st.text(max_size=12),
        "SOURCE": st.sampled_from(["seeded", "fz", "", "one-img-5"]) | st.text(max_size=12),
        "SIZE": st.sampled_from(["8", "0", "-1", "1G", ""]) | st.text(max_size=6),
        "FORMAT": st.sampled_from(["raw", "qcow2", "save_as", ""]),
        "FS": st.sampled_from(["ext4", "xfs", "vfat", ""]), "TARGET_SNAPSHOT": st.text(max_size=6),
    })
    image = st.builds(lambda i, n, f: image_xml(i, n, **f), st.integers(-1, 10**6),
                      st.text(max_size=12), fields)
    good_datastore = datastore_xml(100, template)
    documents = st.builds(lambda img, ds: f"<DS_DRIVER_ACTION_DATA>{img}{ds}</DS_DRIVER_ACTION_DATA>",
                          mostly(image, st.just("") | st.text(max_size=20)),
                          mostly(st.just(good_datastore), st.text(max_size=40)))
    encoded = documents.map(lambda xml: base64.b64encode(xml.encode()))
    return mostly(encoded, st.binary(max_size=40) | st.text(max_size=30).map(lambda t: base64.b64encode(t.encode())))


# --- Proxmox VE ----------------------------------------------------------------------------

PVE_ARGS = {
    "parse_volname": ["volname"], "volume_has_feature": ["feature", "volname", "snapname"],
    "alloc_image": ["vmid", "fmt", "name", "size"], "list_images": ["vmid", "vollist"],
    "status": [], "check_connection": [], "path": ["volname", "snapname"],
    "activate_volume": ["volname", "snapname"], "deactivate_volume": ["volname", "snapname"],
    "free_image": ["volname"], "volume_resize": ["volname", "size"],
    "volume_snapshot": ["volname", "snap"], "volume_rollback_is_possible": ["volname", "snap"],
    "volume_snapshot_rollback": ["volname", "snap"], "volume_snapshot_delete": ["volname", "snap"],
    "volume_size_info": ["volname"], "rename_volume": ["source_volname", "target_vmid", "target_volname"],
    "create_base": ["volname"], "clone_image": ["volname", "vmid", "snapname"],
}
"""Each method's argument names, as the shim passes them: the fuzz mostly sends these."""
ALL_PVE_ARGS = sorted({name for names in PVE_ARGS.values() for name in names})
volnames = (st.sampled_from(["vm-100-disk-0", "vm-100-disk-1", "base-100-disk-0", "vm-101-cloudinit",
                             "base-100-disk-0/vm-101-disk-0", "vm-100-state-s1", "vm-0-disk-0",
                             "vm-100-disk-0.qcow2", "../vm-100-disk-0", "vm-100-disk-0/../x"])
            | st.from_regex(r"(vm|base)-[0-9]{1,10}-(disk-[0-9]{1,5}|cloudinit|state-.{0,8}|pvc-.{0,8})",
                            fullmatch=True)
            | st.text(max_size=24))
arg_values = volnames | st.integers(-1, 2**40) | st.none() | st.booleans() | st.sampled_from(
    ["raw", "qcow2", "s1", "__base__", "current", "snapshot", "clone", "100"]) | st.lists(volnames, max_size=2)


@st.composite
def pve_requests(draw: st.DrawFn, scfg: dict[str, str]) -> tuple[str, Any]:
    """(method, stdin): the shim's request with fuzzed args, sometimes a fuzzed section or
    request; the controller option is never fuzzed (only loopback may be reached)."""
    method = draw(mostly(st.sampled_from([*PVE_ARGS, "nosuch"]), st.text(max_size=10)))
    wanted = PVE_ARGS.get(method, ALL_PVE_ARGS)
    args = draw(mostly(st.fixed_dictionaries({}, optional={name: arg_values for name in wanted}),
                       st.dictionaries(st.sampled_from(ALL_PVE_ARGS), arg_values, max_size=4) | values))
    section: Any = dict(scfg)
    if draw(st.integers(0, 9)) == 0:
        section.update(draw(st.dictionaries(st.sampled_from(
            ["resourcegroup", "profile", "preferlocal", "statuscache", "nosuch", "content"]),
            st.text(max_size=8) | st.integers(-3, 99), max_size=2)))
    request: Any = {"storeid": "fz", "scfg": section, "node": "alpha", "args": args}
    shape = draw(st.integers(0, 19))
    if shape == 0:
        request = draw(values)
    elif shape == 1:
        request = draw(st.text(max_size=30))
    elif shape == 2:
        request.update(draw(st.dictionaries(st.sampled_from(["storeid", "node", "scfg"]), values, max_size=2)))
    return method, request
