"""VM names from /etc/pve files and from the PVE API (recorded HTTP through ``responses``)."""

from __future__ import annotations

import json
from pathlib import Path

import proxmoxer
import pytest
import responses

from proxmox_plugin.vmnames import FirstOf, PveApi, PveFiles

API = "https://pve.example:8006/api2/json"


def _pve_root(tmp_path: Path) -> Path:
    (tmp_path / ".vmlist").write_text(json.dumps({"version": 3, "ids": {
        "101": {"node": "pve1", "type": "qemu", "version": 1},
        "200": {"node": "pve2", "type": "lxc", "version": 2},
        "300": {"node": "pve1", "type": "qemu", "version": 3},
    }}))
    qemu = tmp_path / "nodes" / "pve1" / "qemu-server"
    qemu.mkdir(parents=True)
    (qemu / "101.conf").write_text("boot: order=scsi0\nname: web01\nscsi0: ls:vm-101-disk-0\n"
                                   "[snap1]\nname: old-name\n")
    (qemu / "300.conf").write_text("lock: create\n")
    lxc = tmp_path / "nodes" / "pve2" / "lxc"
    lxc.mkdir(parents=True)
    (lxc / "200.conf").write_text("arch: amd64\nhostname: ct-db\n")
    return tmp_path


def test_files_give_qemu_and_lxc_names(tmp_path: Path) -> None:
    files = PveFiles(_pve_root(tmp_path))
    assert files.name_of(101) == "web01"
    assert files.name_of(200) == "ct-db"
    assert files.name_of(300) is None  # config written before the name: no name yet
    assert files.name_of(999) is None
    assert PveFiles(tmp_path / "missing").name_of(101) is None


@pytest.fixture
def api() -> proxmoxer.ProxmoxAPI:
    return proxmoxer.ProxmoxAPI("pve.example", user="root@pam", token_name="t",
                                token_value="secret", verify_ssl=False)


@responses.activate
def test_api_asks_cluster_resources_once(api: proxmoxer.ProxmoxAPI) -> None:
    responses.get(f"{API}/cluster/resources", match=[responses.matchers.query_param_matcher(
        {"type": "vm"})], json={"data": [
            {"vmid": 101, "name": "web01", "node": "pve1", "type": "qemu"},
            {"vmid": 102, "node": "pve1", "type": "qemu"}]})
    source = PveApi(api)
    assert source.name_of(101) == "web01"
    assert source.name_of(102) is None
    assert source.name_of(103) is None
    assert len(responses.calls) == 3
    assert responses.calls[0].request.headers["Authorization"] == "PVEAPIToken=root@pam!t=secret"


@responses.activate
def test_api_failure_means_no_name(api: proxmoxer.ProxmoxAPI) -> None:
    responses.get(f"{API}/cluster/resources", status=500, json={"data": None})
    assert PveApi(api).name_of(101) is None


@responses.activate
def test_files_first_then_api(tmp_path: Path, api: proxmoxer.ProxmoxAPI) -> None:
    responses.get(f"{API}/cluster/resources", json={"data": [{"vmid": 300, "name": "fresh"}]})
    names = FirstOf((PveFiles(_pve_root(tmp_path)), PveApi(api)))
    assert names.name_of(101) == "web01"
    assert len(responses.calls) == 0
    assert names.name_of(300) == "fresh"


def test_local_api_only_on_a_pve_node(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert PveApi.local() is None
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/pvesh")
    source = PveApi.local()
    assert source is not None and isinstance(source.api, proxmoxer.ProxmoxAPI)
