"""What every action needs besides its arguments, and what a datastore template configures.

Datastore template attributes (image and system datastores alike):

``LINSTOR_CONTROLLERS``      controller URLs, comma separated (default: the linstor client's
                             configuration, then ``linstor://localhost``)
``LINSTOR_RESOURCE_GROUP``   the profile (= resource group of that name, made by
                             ``linstor-core profiles apply``) new disks are spawned from
``LINSTOR_FRONTEND_NODE``    the LINSTOR node name of the front-end, where ``ds cp``, ``export``
                             and ``tm context`` attach a disk to write or read it (default:
                             ``LS_NODE_NAME``, else ``uname -n``, as for every adapter)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from linstor_core.errors import ConfigError
from opennebula_driver.hosts import Hosts
from opennebula_driver.oned import Oned
from opennebula_driver.records import Datastore

if TYPE_CHECKING:
    from linstor_core.disks import DiskService

DRIVER_NAME = "linstor"


def make_service(controllers: tuple[str, ...]) -> DiskService:
    """A DiskService for ``controllers`` (empty: the linstor client's usual configuration).

    Imported here, not at module level: ``--help`` and argument errors need no HTTP stack.
    """
    from linstor_core.config import load_client_config
    from linstor_core.disks import DiskService

    return DiskService.from_config(load_client_config(list(controllers) or None))


@dataclass
class Env:
    """Built once per call in ``cli.main`` (tests build their own); no I/O until an action runs."""

    oned: Oned
    hosts: Hosts
    hostname: str
    remotes: Path
    read_stdin: Callable[[], bytes]
    progress: Callable[[str], None]
    service_factory: Callable[[tuple[str, ...]], DiskService] = make_service
    restricted_dirs: tuple[str, ...] = ()
    """Directories no image is read from whatever the datastore's SAFE_DIRS/RESTRICTED_DIRS say
    otherwise (see :func:`oned_own_directories`); tests build Envs without them."""
    _services: dict[tuple[str, ...], DiskService] = field(default_factory=dict, init=False)

    def service(self, datastore: Datastore) -> DiskService:
        """The disk service for the controllers this datastore names (one per controller list)."""
        controllers = controllers_of(datastore)
        if controllers not in self._services:
            self._services[controllers] = self.service_factory(controllers)
        return self._services[controllers]

    def frontend_node(self, datastore: Datastore) -> str:
        return datastore.template.get("LINSTOR_FRONTEND_NODE") or self.hostname


def one_directories(environ: Mapping[str, str]) -> tuple[Path, Path]:
    """OpenNebula's var and etc directories: under ``ONE_LOCATION`` for a self-contained
    install, else the system ones (the driver remotes live in ``<var>/remotes``)."""
    location = environ.get("ONE_LOCATION")
    if location:
        return Path(location, "var"), Path(location, "etc")
    return Path("/var/lib/one"), Path("/etc/one")


def oned_own_directories(environ: Mapping[str, str]) -> tuple[str, ...]:
    """What OpenNebula's own datastore drivers add to every datastore's RESTRICTED_DIRS
    (``libfs.sh``): its var and etc directories and the home of the user oned runs as, which
    hold oned's configuration and ``one_auth``. Without them any user could register oneadmin's
    credentials as an image and read them in a VM. A home of ``/`` is left out (it would
    restrict every path)."""
    directories = [str(directory) for directory in one_directories(environ)]
    home = environ.get("HOME", "")
    if home.strip("/"):
        directories.append(home)
    return tuple(directories)


def controllers_of(datastore: Datastore) -> tuple[str, ...]:
    """``LINSTOR_CONTROLLERS`` as a tuple; empty means the client's own configuration."""
    raw = datastore.template.get("LINSTOR_CONTROLLERS", "")
    return tuple(c.strip() for c in raw.split(",") if c.strip())


def profile_of(datastore: Datastore) -> str:
    """The profile new disks come from; a datastore without one cannot create disks."""
    profile = datastore.template.get("LINSTOR_RESOURCE_GROUP")
    if not profile:
        raise ConfigError(
            f"datastore {datastore.id} names no LINSTOR profile",
            correction=f"onedatastore update {datastore.id}: add LINSTOR_RESOURCE_GROUP=\"<profile>\"",
        )
    return profile
