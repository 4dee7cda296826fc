"""Snapshot requests that are refused or normalised before anything changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from linstor_core import retcodes as rc

pytestmark = pytest.mark.root

MIB = 1024


def make_rd(rest, name: str, *nodes: str) -> None:
    rest.ok("POST", "/v1/resource-definitions", {"resource_definition": {
        "name": name, "layer_data": [{"type": "STORAGE"}]}}, status=201)
    rest.ok("POST", f"/v1/resource-definitions/{name}/volume-definitions",
            {"volume_definition": {"size_kib": 4 * MIB}}, status=201)
    place(rest, name, *nodes)


def place(rest, name: str, *nodes: str) -> None:
    rest.ok("POST", f"/v1/resource-definitions/{name}/resources",
            [{"resource": {"node_name": n, "props": {"StorPoolName": "thinpool"}}}
             for n in nodes], status=201)


def test_restoring_volume_definitions_into_a_definition_with_resources_is_refused(
        rest, pool_root: Path) -> None:
    make_rd(rest, "AA", "alpha")
    rest.ok("POST", "/v1/resource-definitions/AA/snapshots", {"name": "s1"}, status=201)
    rest.ok("POST", "/v1/resource-definitions", {"resource_definition": {
        "name": "TT", "layer_data": [{"type": "STORAGE"}]}}, status=201)
    place(rest, "TT", "bravo")
    refused = rest.error("POST", "/v1/resource-definitions/AA/snapshot-restore-volume-definition/s1",
                         {"to_resource": "TT"}, status=500, code=rc.code_of(rc.FAIL_EXISTS_RSC))
    assert refused["message"] == "Cannot restore to resource definition which already has resources"
    assert rest.call("GET", "/v1/resource-definitions/TT/volume-definitions") == []
    assert list((pool_root / "bravo").glob("TT_*")) == []


def test_a_node_named_twice_in_a_snapshot_request_is_snapshotted_once(
        rest, pool_root: Path) -> None:
    make_rd(rest, "AA", "alpha", "bravo")
    rest.ok("POST", "/v1/resource-definitions/AA/snapshots",
            {"name": "s1", "nodes": ["alpha", "ALPHA"]}, status=201)
    snapshot = rest.call("GET", "/v1/resource-definitions/AA/snapshots/s1")
    assert snapshot["nodes"] == ["alpha"]
    assert (pool_root / "alpha" / "AA_00000.snap.s1.img").exists()
    assert not (pool_root / "bravo" / "AA_00000.snap.s1.img").exists()
