"""A rollback request whose record is gone before its switch fails: it never reports success
for a rollback that did not happen (start-up finishing with no record stays a no-op)."""

from __future__ import annotations

from pathlib import Path

import pytest

from linstor_core import retcodes as rc
from linstor_core.controller.ops import snapshots
from linstor_core.errors import NotFound
from test_rollback_all_or_none import controller, heads, pending, snapped  # noqa: F401


def test_a_rollback_whose_record_vanished_is_refused_and_changes_nothing(snapped: Path) -> None:
    ctl = controller(snapped)
    try:
        with pytest.raises(NotFound) as caught, ctl.change(rc.MASK_SNAPSHOT) as change:
            snapshots.rollback(ctl, change, "vm1", "s1")
            change.repo.tx.run("DELETE FROM rollbacks WHERE rd = 'vm1'")
        assert pending(ctl) == []
    finally:
        ctl.close()
    assert caught.value.replies[0].message == (
        "Rollback of 'vm1' to 's1' is no longer recorded; nothing was rolled back.")
    assert heads(snapped) == {"alpha": b"newdata!", "bravo": b"newdata!"}


def test_finishing_at_start_up_without_a_record_does_nothing(snapped: Path) -> None:
    ctl = controller(snapped)
    try:
        assert snapshots.finish_rollback(ctl, "vm1") == []
    finally:
        ctl.close()
    assert heads(snapped) == {"alpha": b"newdata!", "bravo": b"newdata!"}
