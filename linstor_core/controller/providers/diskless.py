"""DISKLESS: a pool that stores nothing; its volumes get their device from the DRBD layer only."""

from __future__ import annotations


class DisklessProvider:
    """Implements no capability on purpose: the satellite makes no file and no loop device."""

    kind = "DISKLESS"
