"""The last diskful replica of a definition stays while diskless resources still read through it.

Real LINSTOR refuses that delete (``CtrlRscDeleteApiHelper.ensureNotLastDisk``) with
FAIL_IN_USE; the embedded controller must too, or a diskless attach loses its data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from linstor_core import retcodes as rc
from linstor_core.errors import InUse

LAST_DISK = "Last resource of 'shared' with disk still has diskless resources attached."


def flags_by_node(rest) -> dict[str, list[str]]:
    listed = rest.call("GET", "/v1/resource-definitions/shared/resources", status=200)
    return {r["node_name"]: r["flags"] for r in listed}


@pytest.fixture
def one_replica_and_client(rest) -> None:
    """``shared`` (DRBD) diskful on alpha, a diskless client on bravo."""
    rest.ok("POST", "/v1/resource-groups", {"name": "single", "select_filter": {
        "place_count": 1, "node_name_list": ["alpha"]}}, status=201)
    rest.ok("POST", "/v1/resource-groups/single/spawn", {
        "resource_definition_name": "shared", "volume_sizes": [4096]}, status=201)
    rest.ok("POST", "/v1/resource-definitions/shared/resources/bravo/make-available",
            {"diskful": False})
    assert flags_by_node(rest) == {"alpha": [], "bravo": ["DISKLESS", "DRBD_DISKLESS"]}


@pytest.mark.usefixtures("one_replica_and_client")
def test_last_diskful_replica_is_refused_while_a_diskless_one_remains(rest, pool_root: Path):
    refused = rest.error("DELETE", "/v1/resource-definitions/shared/resources/alpha",
                         status=500, code=rc.FAIL_IN_USE)
    assert refused["message"] == LAST_DISK
    assert refused["ret_code"] & rc.MASK_BITS_OP == rc.MASK_DEL
    assert refused["correction"] == ("Before deleting this resource, delete the diskless "
                                     "resources attached to it.")
    assert set(flags_by_node(rest)) == {"alpha", "bravo"}
    assert (pool_root / "alpha" / "shared_00000.img").exists()

    rest.ok("DELETE", "/v1/resource-definitions/shared/resources/bravo")
    rest.ok("DELETE", "/v1/resource-definitions/shared/resources/alpha")
    assert flags_by_node(rest) == {}
    assert not (pool_root / "alpha" / "shared_00000.img").exists()


@pytest.mark.usefixtures("one_replica_and_client")
def test_client_sees_the_refusal_as_in_use(client):
    with pytest.raises(InUse) as raised:
        client.resources.delete("shared", "alpha")
    assert raised.value.message == LAST_DISK


@pytest.mark.usefixtures("one_replica_and_client")
def test_a_diskful_replica_goes_while_another_holds_the_data(rest):
    rest.ok("POST", "/v1/resource-definitions/shared/resources/charlie", {
        "resource": {"node_name": "charlie", "props": {"StorPoolName": "thinpool"}}},
        status=201)
    rest.ok("DELETE", "/v1/resource-definitions/shared/resources/alpha")
    assert flags_by_node(rest) == {"bravo": ["DISKLESS", "DRBD_DISKLESS"], "charlie": []}
