"""Docker volume names: checked here, then mapped to a LINSTOR resource definition name.

Docker's own rule for volume names is ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``; we hold every name to it
(Docker does not check names for plugin volumes), because the name becomes a directory under the
mount root and must never climb out of it (``../x``, ``a/b``). The resource definition is
``docker-<name>``; LINSTOR allows no ``.`` and ignores case, so ``naming.disk_resource_name``
sanitises and adds a hash where needed, and the Docker name itself is kept in the
``Aux/bundle/owner-name`` property, which is the name Get and List report.
"""

from __future__ import annotations

import re

from linstor_core import naming
from linstor_core.errors import InvalidInput

PLATFORM = "docker"
MAX_NAME = 64
_DOCKER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]+")


def check_volume_name(name: object) -> str:
    """Return ``name`` if Docker would accept it as a volume name and it fits, else raise."""
    if not isinstance(name, str) or not name:
        raise InvalidInput("Name", name, "a volume name is required")
    if len(name) > MAX_NAME:
        raise InvalidInput("Name", name, f"longer than {MAX_NAME} characters")
    if not _DOCKER_NAME.fullmatch(name):
        raise InvalidInput(
            "Name", name, "not a Docker volume name",
            correction="use at least 2 of letters, digits, '_', '.' and '-', starting with a letter or digit",
        )
    return name


def resource_name(volume: str) -> str:
    """The resource definition name that holds Docker volume ``volume`` (checked first)."""
    return naming.disk_resource_name(PLATFORM, None, check_volume_name(volume))
