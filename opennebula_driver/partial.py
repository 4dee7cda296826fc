"""A disk an action makes is finished or not left behind: oned forgets a failed action's disk.

oned drops an image whose SOURCE it never got, and a hot-attached disk whose TM step failed
(``one_vmm_exec.rb`` runs no clean-up for that step), without asking the driver again: a disk
left half made would stay in LINSTOR for good, and a later attach that gets the same disk id
would find it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from linstor_core import naming
from linstor_core.errors import AlreadyExists, ConfigError, InvalidInput, NotFound, noted_on

if TYPE_CHECKING:
    from linstor_core.disks import DiskService
    from linstor_core.models import Disk

REFUSED = (InvalidInput, ConfigError, AlreadyExists, NotFound)
"""What making a disk raises when it changed nothing: bad input, the name already taken, or
what it is made from (profile, source image) missing."""


def made_or_nothing(service: DiskService, name: str, props: Mapping[str, str], make: Callable[[], Disk],
                    fill: Callable[[Disk], None] | None = None) -> None:
    """``make`` disk ``name`` (refused if the name is taken) and ``fill`` it (given what ``make``
    returned), or leave nothing behind.

    Any failure but a refusal, a stop signal included (see ``cli``), deletes the disk if it
    carries ``props`` (its owner's). A refusal leaves everything alone: an existing disk of that
    name was not made here. A failing clean-up becomes a note on the original error.
    """
    try:
        disk = make()
    except BaseException as error:  # a bug's exception as much as a LinstorError: oned would never ask
        if not isinstance(error, REFUSED):
            delete_if_owned(service, name, props, error)
        raise
    if fill is not None:
        finished_or_deleted(service, name, props, lambda: fill(disk))


def finished_or_deleted(service: DiskService, name: str, props: Mapping[str, str], finish: Callable[[], None]) -> None:
    """``finish`` disk ``name``, which this action made; when that fails in any way, delete it
    (if it carries ``props``) and raise."""
    try:
        finish()
    except BaseException as error:
        delete_if_owned(service, name, props, error)
        raise


def delete_if_owned(service: DiskService, name: str, props: Mapping[str, str], error: BaseException) -> None:
    """Delete disk ``name`` if it carries ``props``; a failure of that is noted on ``error``."""
    with noted_on(error, f"removing the partial {name}"):
        disk = service.definition(name)
        if disk is not None and naming.carries(disk.props, props):
            service.delete(name, with_snapshots=True)
