"""Resource definitions and volume definitions over real HTTP."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from linstor_core import retcodes as rc


def rd_body(name: str, layers: tuple[str, ...] = ("STORAGE",), **props: str) -> dict:
    return {"resource_definition": {"name": name, "props": props,
                                    "layer_data": [{"type": layer} for layer in layers]}}


def db_rows(controller, table: str) -> list[tuple]:
    with sqlite3.connect(controller.state_dir / "controller.sqlite3") as conn:
        return conn.execute(f"SELECT * FROM {table}").fetchall()


def test_create_get_list_rd(rest):
    replies = rest.ok("POST", "/v1/resource-definitions", rd_body("LocalData"), status=201)
    assert replies[0]["message"] == "New resource definition 'LocalData' created."
    assert replies[0]["ret_code"] == rc.CREATED | rc.MASK_CRT | rc.MASK_RSC_DFN
    rd = rest.call("GET", "/v1/resource-definitions/LocalData", status=200,
                   schema="ResourceDefinition")
    assert rd["layer_data"] == [{"type": "STORAGE"}]
    assert rd["resource_group_name"] == "DfltRscGrp"
    listed = rest.call("GET", "/v1/resource-definitions", status=200,
                       schema="ResourceDefinition", many=True)
    assert [r["name"] for r in listed] == ["LocalData"]
    rest.error("POST", "/v1/resource-definitions", rd_body("localdata"), status=500,
               code=rc.FAIL_EXISTS_RSC_DFN)


def test_drbd_rd_gets_port_and_minors(rest):
    rest.ok("POST", "/v1/resource-definitions", rd_body("SharedData", ("DRBD", "STORAGE")),
            status=201)
    rest.ok("POST", "/v1/resource-definitions", rd_body("Other", ("drbd", "storage")), status=201)
    for name in ("SharedData", "Other"):
        rest.ok("POST", f"/v1/resource-definitions/{name}/volume-definitions",
                {"volume_definition": {"size_kib": 4096}}, status=201)
    (shared,) = rest.call("GET", "/v1/resource-definitions", params={
        "resource_definitions": ["SharedData"], "with_volume_definitions": "true"}, status=200,
        schema="ResourceDefinition", many=True)
    assert shared["layer_data"][0]["data"]["port"] == 7000
    assert shared["volume_definitions"][0]["layer_data"][0]["data"]["minor_number"] == 1000
    other = rest.call("GET", "/v1/resource-definitions/Other", status=200)
    assert other["layer_data"][0]["data"]["port"] == 7001
    rest.ok("DELETE", "/v1/resource-definitions/SharedData")
    rest.ok("POST", "/v1/resource-definitions", rd_body("Third", ("DRBD", "STORAGE")),
            status=201)
    third = rest.call("GET", "/v1/resource-definitions/Third", status=200)
    assert third["layer_data"][0]["data"]["port"] == 7000, "freed port is reused"


def test_rd_list_filters(rest):
    rest.ok("POST", "/v1/resource-definitions",
            rd_body("pve-1", **{"Aux/bundle/platform": "pve"}), status=201)
    rest.ok("POST", "/v1/resource-definitions",
            rd_body("one-1", **{"Aux/bundle/platform": "one"}), status=201)
    rest.ok("POST", "/v1/resource-definitions/pve-1/volume-definitions",
            {"volume_definition": {"size_kib": 2048}}, status=201)
    by_value = rest.call("GET", "/v1/resource-definitions", status=200,
                         params={"props": "Aux/bundle/platform=pve",
                                 "with_volume_definitions": "true"},
                         schema="ResourceDefinition", many=True)
    assert [r["name"] for r in by_value] == ["pve-1"]
    assert by_value[0]["volume_definitions"][0]["size_kib"] == 2048
    by_key = rest.call("GET", "/v1/resource-definitions", status=200,
                       params={"props": "Aux/bundle/platform"})
    assert len(by_key) == 2
    by_name = rest.call("GET", "/v1/resource-definitions", status=200,
                        params={"resource_definitions": ["one-1"]})
    assert [r["name"] for r in by_name] == ["one-1"]
    assert "volume_definitions" not in by_name[0]


def test_rd_props_filters_combine_and_match_exactly(rest):
    """Every filter must hold (SQLite narrows the rows first, by the stored JSON's text); values
    compare whole, keys with dots, quotes or a NUL mean the key itself."""
    for name, props in (("a-1", {"Aux/k": "101", "Aux/x.y": "1"}), ("a-2", {"Aux/k": "1010"}),
                        ("a-3", {"Aux/k": "101", 'Aux/q"uote': "v"}), ("a-4", {}),
                        ("a-5", {"Aux/v": 'x", "Aux/k": "101'})):  # a value that spells a filter
        rest.ok("POST", "/v1/resource-definitions", rd_body(name, **props), status=201)

    rest.ok("POST", "/v1/resource-definitions/a-1/volume-definitions",
            {"volume_definition": {"size_kib": 2048}}, status=201)

    def names(*filters: str) -> list[str]:
        found = rest.call("GET", "/v1/resource-definitions", status=200, params={"props": list(filters)})
        return [r["name"] for r in found]

    with_vds = rest.call("GET", "/v1/resource-definitions", status=200,
                         params={"props": "Aux/k=101", "with_volume_definitions": "true"})
    assert [(r["name"], [v["size_kib"] for v in r["volume_definitions"]]) for r in with_vds] == [
        ("a-1", [2048]), ("a-3", [])]

    assert names("Aux/k=101") == ["a-1", "a-3"]
    by_name = rest.call("GET", "/v1/resource-definitions", status=200, params={  # read by name
        "resource_definitions": ["A-3", "a-1", "missing"], "with_volume_definitions": "true"})
    assert [(r["name"], [v["size_kib"] for v in r["volume_definitions"]]) for r in by_name] == [
        ("a-1", [2048]), ("a-3", [])]
    assert [r["name"] for r in rest.call("GET", "/v1/resource-definitions", status=200, params={
        "resource_definitions": ["a-1", "a-2"], "props": "Aux/k=101"})] == ["a-1"]
    assert names("Aux/k=10") == [] and names("Aux/k") == ["a-1", "a-2", "a-3"]
    assert names("Aux/k=101", "Aux/x.y=1") == ["a-1"] and names("Aux/x.y") == ["a-1"]
    assert names('Aux/q"uote=v') == ["a-3"] and names("Aux/k=101", 'Aux/q"uote') == ["a-3"]
    assert names("Aux/missing") == [] and len(names()) == 5
    assert names("\0") == [] and names("=v") == []


def test_rd_modify_props(rest):
    rest.ok("POST", "/v1/resource-definitions", rd_body("res1", a="1", b="2"), status=201)
    replies = rest.ok("PUT", "/v1/resource-definitions/res1",
                      {"override_props": {"c": "3"}, "delete_props": ["a"]})
    assert replies[0]["ret_code"] == rc.MODIFIED | rc.MASK_MOD | rc.MASK_RSC_DFN
    rd = rest.call("GET", "/v1/resource-definitions/res1", status=200)
    assert rd["props"] == {"b": "2", "c": "3"}
    rest.ok("PUT", "/v1/resource-definitions/res1", {"layer_stack": ["STORAGE"]})
    rest.error("PUT", "/v1/resource-definitions/res1", {"layer_stack": ["DRBD", "STORAGE"]},
               status=400, code=rc.FAIL_INVLD_LAYER_STACK)


@pytest.mark.parametrize("name", ["1abc", "a", "all", "x" * 49, "bad name", "ä-umlaut"])
def test_invalid_rd_names_change_nothing(rest, controller, name):
    rest.error("POST", "/v1/resource-definitions", rd_body(name), status=400,
               code=rc.FAIL_INVLD_RSC_NAME)
    assert db_rows(controller, "resource_definitions") == []


@pytest.mark.parametrize("size", [0, -1, "10", 1.5, True, None])
def test_invalid_sizes_change_nothing(rest, controller, pool_root: Path, size):
    rest.ok("POST", "/v1/resource-definitions", rd_body("sized"), status=201)
    rest.ok("POST", "/v1/resource-definitions/sized/resources",
            [{"resource": {"node_name": "alpha", "props": {"StorPoolName": "thinpool"}}}],
            status=201)
    rest.error("POST", "/v1/resource-definitions/sized/volume-definitions",
               {"volume_definition": {"size_kib": size}}, status=400,
               code=rc.FAIL_INVLD_VLM_SIZE if size is not None else None)
    assert db_rows(controller, "volume_definitions") == []
    assert not list((pool_root / "alpha").glob("*.img"))


def test_vd_create_on_existing_resources_and_resize(rest, pool_root: Path):
    rest.ok("POST", "/v1/resource-definitions", rd_body("grow"), status=201)
    rest.ok("POST", "/v1/resource-definitions/grow/resources",
            [{"resource": {"node_name": n, "props": {"StorPoolName": "thinpool"}}}
             for n in ("alpha", "bravo")], status=201)
    replies = rest.ok("POST", "/v1/resource-definitions/grow/volume-definitions",
                      {"volume_definition": {"size_kib": 8192}}, status=201)
    assert replies[0]["message"] == ("New volume definition with number '0' of resource "
                                     "definition 'grow' created.")
    image = pool_root / "alpha" / "grow_00000.img"
    assert image.stat().st_size == 8192 * 1024
    rest.ok("PUT", "/v1/resource-definitions/grow/volume-definitions/0", {"size_kib": 16384})
    assert image.stat().st_size == 16384 * 1024
    assert (pool_root / "bravo" / "grow_00000.img").stat().st_size == 16384 * 1024
    vds = rest.call("GET", "/v1/resource-definitions/grow/volume-definitions", status=200,
                    schema="VolumeDefinition", many=True)
    assert vds[0]["size_kib"] == 16384
    rest.error("PUT", "/v1/resource-definitions/grow/volume-definitions/0", {"size_kib": 4096},
               status=400, code=rc.FAIL_INVLD_VLM_SIZE)
    assert image.stat().st_size == 16384 * 1024
    if os.geteuid() == 0:
        rsc = rest.call("GET", "/v1/resource-definitions/grow/resources/alpha", status=200,
                        schema="ResourceWithVolumes")
        device = rsc["volumes"][0]["device_path"]
        assert device.startswith("/dev/loop")
        assert int(Path(f"/sys/block/{device[5:]}/size").read_text()) * 512 == 16384 * 1024


def test_rd_delete_removes_storage(rest, pool_root: Path):
    rest.ok("POST", "/v1/resource-definitions", rd_body("gone"), status=201)
    rest.ok("POST", "/v1/resource-definitions/gone/volume-definitions",
            {"volume_definition": {"size_kib": 1024}}, status=201)
    rest.ok("POST", "/v1/resource-definitions/gone/resources",
            [{"resource": {"node_name": "alpha", "props": {"StorPoolName": "thinpool"}}}],
            status=201)
    assert (pool_root / "alpha" / "gone_00000.img").exists()
    replies = rest.ok("DELETE", "/v1/resource-definitions/gone")
    assert replies[-1]["message"] == "Resource definition 'gone' deleted."
    assert not (pool_root / "alpha" / "gone_00000.img").exists()
    (again,) = rest.call("DELETE", "/v1/resource-definitions/gone", status=200)  # LINSTOR: a warning
    assert rc.code_of(again["ret_code"]) == rc.WARN_NOT_FOUND
    assert again["message"] == "Resource definition 'gone' not found."
    rest.error("DELETE", "/v1/resource-definitions/1bad", status=400, code=rc.FAIL_INVLD_RSC_NAME)


def test_unsupported_layer_stack(rest):
    rest.error("POST", "/v1/resource-definitions", rd_body("luks", ("LUKS", "STORAGE")),
               status=400, code=rc.FAIL_INVLD_LAYER_STACK)
