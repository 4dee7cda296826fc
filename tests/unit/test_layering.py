"""Adapters translate only: they reach LINSTOR through linstor_core.disks, never the client or the
controller directly, and never each other; linstor_core imports no adapter (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = ("proxmox_plugin", "opennebula_driver", "docker_volume")
FORBIDDEN_FOR_ADAPTERS = ("linstor_core.client", "linstor_core.controller")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_adapter_stays_off_client_controller_and_other_adapters(adapter: str) -> None:
    others = [a for a in ADAPTERS if a != adapter]
    for module in _modules(adapter):
        for name in _imports(module):
            assert not name.startswith(FORBIDDEN_FOR_ADAPTERS), f"{module} imports {name}"
            assert name.split(".")[0] not in others, f"{module} imports {name}"


def test_core_imports_no_adapter() -> None:
    for module in _modules("linstor_core"):
        for name in _imports(module):
            assert name.split(".")[0] not in ADAPTERS, f"{module} imports {name}"
