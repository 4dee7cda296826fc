"""Registering the functional tests' nodes and pools on a controller (fixtures, crash tests)."""

from __future__ import annotations

from pathlib import Path

import requests

NODES = ("alpha", "bravo", "charlie")
ADDRESSES = {"alpha": "127.0.0.11", "bravo": "127.0.0.12", "charlie": "127.0.0.13"}
POOL = "thinpool"


def populate(url: str, pool_root: Path, nodes: tuple[str, ...] = NODES,
             session: requests.Session | None = None) -> None:
    """Register ``nodes`` with a FILE_THIN pool ``thinpool`` each (directory per node)."""
    http = session or requests.Session()
    for node in nodes:
        address = ADDRESSES.get(node, "127.0.0.10")
        answer = http.post(f"{url}/v1/nodes", json={
            "name": node, "type": "SATELLITE",
            "net_interfaces": [{"name": "default", "address": address}]}, timeout=30)
        answer.raise_for_status()
        answer = http.post(f"{url}/v1/nodes/{node}/storage-pools", json={
            "storage_pool_name": POOL, "provider_kind": "FILE_THIN",
            "props": {"StorDriver/FileDir": str(pool_root / node)}}, timeout=30)
        answer.raise_for_status()
