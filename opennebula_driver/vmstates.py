"""What oned's VM states say about where a VM is: the numbers of its ``STATE`` and ``LCM_STATE``.

The values are oned's (``VirtualMachine::VmState`` and ``LcmState``, pyone's ``VM_STATE`` and
``LCM_STATE``); pyone is not imported for them, as most actions never load it.
"""

from __future__ import annotations

from opennebula_driver.records import Vm

ACTIVE, SUSPENDED, POWEROFF = 3, 5, 8
"""The VM states in which a VM keeps its host: running (or on its way there, or busy), suspended
with its memory saved on the host, powered off with its disks linked there."""

EPILOG_STOP, EPILOG, CLEANUP_RESUBMIT, CLEANUP_DELETE, EPILOG_UNDEPLOY = 10, 11, 15, 23, 30
EPILOG_FAILURE, EPILOG_STOP_FAILURE, EPILOG_UNDEPLOY_FAILURE = 40, 41, 42
MIGRATE, SAVE_MIGRATE = 4, 7

LCM_LEAVING = frozenset({EPILOG_STOP, EPILOG_UNDEPLOY, EPILOG_STOP_FAILURE, EPILOG_UNDEPLOY_FAILURE})
"""EPILOG_STOP and EPILOG_UNDEPLOY (and their ``_FAILURE`` forms): an MV then only takes the disks
off the host. In every other state (PROLOG_MIGRATE, PROLOG_RESUME, PROLOG_UNDEPLOY,
PROLOG_MIGRATE_POWEROFF/_SUSPEND/_UNKNOWN, ...) it brings them to the host the VM runs on next."""

LCM_GOING = LCM_LEAVING | {EPILOG, EPILOG_FAILURE, CLEANUP_RESUBMIT, CLEANUP_DELETE}
"""An ACTIVE VM in these states is leaving its host (stopped, undeployed, terminated, recreated,
deleted): its own actions take its disks away; it needs nothing there any more."""

LCM_ON_BOTH_HOSTS = frozenset({MIGRATE, SAVE_MIGRATE})
"""A live migration, or a cold one saving the VM: it still runs on the host it leaves (the
history record before the last) while its last record names the one it goes to."""


def holds_host(vm: Vm, host: str) -> bool:
    """Whether ``vm`` is on ``host`` now, or about to be, and needs its disks there: deployed,
    running, busy, suspended or powered off there and not leaving it; during a live migration
    (or the save of a cold one) both on the host it goes to and on the one it leaves."""
    if vm.state not in (ACTIVE, SUSPENDED, POWEROFF) or not vm.hosts:
        return False
    if vm.state == ACTIVE and vm.lcm_state in LCM_GOING:
        return False
    if vm.hosts[-1] == host:
        return True
    return vm.state == ACTIVE and vm.lcm_state in LCM_ON_BOTH_HOSTS and vm.hosts[-2:-1] == (host,)
