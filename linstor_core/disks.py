"""The disk service: the one thing every adapter calls to manage its platform's disks.

A disk is a LINSTOR resource definition with one volume (number 0), spawned from the resource
group of an operator profile, its owner recorded in ``Aux/`` properties. Each method is as few
REST calls as LINSTOR allows (``create`` is one spawn; ``list`` is one filtered definition list
plus at most one resources view and one snapshots view for all disks), because platforms call
these from short-lived hooks under cluster locks, and controllers are polled by every node.

Platforms retry hooks, so what can be idempotent is: ``create`` (same profile and size),
``delete``, ``delete_snapshot``, ``detach``, ``attach``, ``end_migration`` and growing
``resize`` to the same size.
What would lose data is refused: shrinking, deleting a disk that still has snapshots unless
asked, removing a diskful replica on ``detach``. Clones and restores that fail leave nothing of
the target behind. Names are validated (:mod:`linstor_core.naming`) before any request is sent.
Sizes are KiB.
"""

from __future__ import annotations

import builtins
import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager

from linstor_core import retcodes
from linstor_core.client import LinstorClient
from linstor_core.config import ClientConfig
from linstor_core.errors import AlreadyExists, ApiError, ApiReply, InUse, InvalidInput, LinstorError, NotFound, noted_on
from linstor_core.models import (
    HAND_OVER, TWO_PRIMARIES, Attachment, Capacity, Disk, Resource, ResourceDefinition, SelectFilter, Snapshot,
)
from linstor_core.naming import (
    PROP_PREFIX, among, validate_node_name, validate_resource_group_name, validate_resource_name,
    validate_snapshot_name,
)

VOLUME_NUMBER = 0
POLL_FIRST = 0.2
POLL_MAX = 2.0
ZEROED_KINDS = frozenset({"LVM_THIN", "ZFS", "ZFS_THIN", "FILE", "FILE_THIN"})
"""Storage kinds whose new volumes read as zeros (thin pools, zvols, files); a new thick LVM
volume holds whatever the disk held before."""
CLONE_TIMEOUT_BASE = 300.0
CLONE_SLOWEST_KIB_PER_S = 50 * 1024
"""A clone's default wait: 300 s plus the source's size at 50 MiB/s, a full copy on slow thick
storage (a thin or reflink clone takes seconds whatever the size). A fixed wait failed every
clone of a large image, and every retry of it the same way."""
VIEW_FILTER_MAX = 40
"""Up to this many disks, views ask for them by name; beyond, one unfiltered view is cheaper
than a URL long enough to hit the controller's header limits."""
UNFIT_NODE_CODES = frozenset(
    {retcodes.FAIL_NOT_ENOUGH_NODES, retcodes.FAIL_NOT_FOUND_NODE, retcodes.FAIL_NOT_FOUND_STOR_POOL}
)
"""Why a spawn pinned to a preferred node fails when that node cannot hold a replica of the
profile (no such node, not the profile's pool, not enough space): then the disk is placed by
the profile alone."""


SPAWN_REFUSED_CODES = frozenset(
    {retcodes.FAIL_NOT_FOUND_RSC_GRP, retcodes.FAIL_INVLD_RSC_GRP_NAME, retcodes.FAIL_INVLD_RSC_NAME,
     retcodes.API_CALL_AUTH_REQ}
)
"""Why a spawn is refused before it looks for, let alone makes, the definition: a definition of
that name is then another disk (``docker volume create`` again with a mistyped profile), never
a partial one of this call to clean up."""


def _zeroed_storage(resources: Sequence[Resource]) -> bool:
    """Whether a new disk with these resources reads as zeros (see ``DiskService.starts_zeroed``).
    A replica that names no volume or no storage kind counts as not zeroed: unknown is unsafe."""
    replicas = [r for r in resources if not r.diskless]
    kinds = [volume.provider_kind for r in replicas for volume in r.volumes]
    return (bool(replicas) and all(r.volumes for r in replicas) and all(kind in ZEROED_KINDS for kind in kinds)
            and all(set(r.layers) <= {"DRBD", "STORAGE"} for r in replicas))


def _refusal(kind: type[ApiError], ret_code: int, message: str, *, cause: str = "", correction: str = "") -> ApiError:
    return kind([ApiReply(ret_code=ret_code, message=message, cause=cause, correction=correction)])


def _positive_kib(size_kib: int) -> int:
    if isinstance(size_kib, bool) or not isinstance(size_kib, int) or size_kib <= 0:
        raise InvalidInput("size", size_kib, "must be a whole number of KiB greater than zero")
    return size_kib


def _size_kib(rd: ResourceDefinition) -> int:
    """The disk's size: volume 0's (a definition without volumes, half-made, counts as 0)."""
    volumes = [v for v in rd.volume_definitions if v.volume_number == VOLUME_NUMBER] or list(rd.volume_definitions)
    return volumes[0].size_kib if volumes else 0


def full_write_timeout(size_kib: int) -> float:
    """Seconds to allow for writing all ``size_kib`` of a disk: a full-copy clone, or zeroing a
    thick volume (see ``CLONE_SLOWEST_KIB_PER_S``)."""
    return CLONE_TIMEOUT_BASE + size_kib / CLONE_SLOWEST_KIB_PER_S


def _volume_device(resource: Resource) -> str | None:
    """The device path of ``resource``'s volume 0, None where it shows none."""
    return next((v.device_path for v in resource.volumes if v.volume_number == VOLUME_NUMBER and v.device_path),
                None)


def _disk(rd: ResourceDefinition, resources: Iterable[Resource], snapshots: Iterable[Snapshot]) -> Disk:
    placed = [r for r in resources if r.name == rd.name]
    return Disk(
        name=rd.name,
        size_kib=_size_kib(rd),
        profile=rd.resource_group_name,
        props=dict(rd.props),
        nodes=tuple(sorted(r.node_name for r in placed if not r.diskless)),
        diskless_nodes=tuple(sorted(r.node_name for r in placed if r.diskless)),
        snapshots=tuple(sorted(s.name for s in snapshots if s.resource_name == rd.name)),
    )


class DiskService:
    """Disks on whichever LINSTOR controller ``client`` talks to. No I/O in the constructor.

    ``sleep`` and ``clock`` are injected so that clone polling can be tested without waiting.
    """

    def __init__(
        self,
        client: LinstorClient,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._sleep = sleep
        self._clock = clock
        # Reads sent alongside another (``attachment``'s definition); threads start on first use.
        self._reads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="linstor-read")

    @classmethod
    def from_config(cls, config: ClientConfig) -> "DiskService":
        """The service for ``config``'s controllers (adapters must not import the client)."""
        return cls(LinstorClient(config))

    def create(
        self, profile: str, name: str, size_kib: int, props: Mapping[str, str] = {}, *, prefer_node: str | None = None,
        select_filter: SelectFilter | None = None, exist_ok: bool = True,
    ) -> Disk:
        """Spawn disk ``name`` from profile ``profile``'s resource group: one REST call.

        ``select_filter`` overrides the fields it sets of the profile's placement for this disk
        only (Docker's ``-o replicas=`` and friends); it cannot be combined with ``prefer_node``.

        With ``prefer_node``, one of the profile's replicas goes on that node (in the profile's
        storage pool) and the rest are autoplaced by the profile, which counts that replica and
        its node's properties: two calls. A node that cannot hold a replica (not a LINSTOR node,
        without the profile's pool, too full) is no error: the profile places the disk alone.

        Asking again for the same profile and size returns the existing disk (PVE re-allocates
        cloudinit disks; hooks are retried); the same name with another size or profile is
        AlreadyExists. ``exist_ok=False`` makes any existing disk AlreadyExists: for a name
        picked as free, where a racing creator may have got there first and the disk is then
        not this caller's. A create that fails otherwise leaves no definition behind, and a refused
        one (unknown profile) leaves an existing disk of that name alone. The returned
        disk does not list nodes (placement is not read back here; use :meth:`get`).
        """
        validate_resource_group_name(profile)
        validate_resource_name(name)
        _positive_kib(size_kib)
        if prefer_node is not None:
            validate_node_name(prefer_node)
            if select_filter is not None:
                raise InvalidInput("select_filter", select_filter, "cannot be combined with prefer_node")
        try:
            if prefer_node is None or not self._spawn_on(profile, name, size_kib, props, prefer_node):
                self.client.resource_groups.spawn(profile, name, [size_kib], props=props, select_filter=select_filter)
        except AlreadyExists:
            if not exist_ok:
                raise
            return self._existing(profile, name, size_kib)
        except ApiError as error:
            if not any(retcodes.code_of(reply.ret_code) in SPAWN_REFUSED_CODES for reply in error.replies):
                self._discard(name)
            raise
        return Disk(name=name, size_kib=size_kib, profile=profile, props=dict(props))

    def _spawn_on(self, profile: str, name: str, size_kib: int, props: Mapping[str, str], node: str) -> bool:
        """Spawn with one replica pinned to ``node``, then autoplace the profile's others.

        False (and nothing left behind) when ``node`` cannot hold a replica of the profile. The
        pinned spawn puts no diskless resources anywhere; the autoplace adds them if the profile
        asks for diskless on the remaining nodes.
        """
        pinned = SelectFilter(place_count=1, node_name_list=(node,), diskless_on_remaining=False)
        try:
            self.client.resource_groups.spawn(profile, name, [size_kib], props=props, select_filter=pinned)
        except ApiError as error:
            if isinstance(error, AlreadyExists) or not any(
                retcodes.code_of(reply.ret_code) in UNFIT_NODE_CODES for reply in error.replies if reply.is_error
            ):
                raise
            self._discard(name)
            return False
        self.client.resources.autoplace(name)
        return True

    def _existing(self, profile: str, name: str, size_kib: int) -> Disk:
        disk = self.get(name)
        if not among(profile, (disk.profile,)) or disk.size_kib != size_kib:  # LINSTOR's names ignore case
            raise _refusal(
                AlreadyExists,
                retcodes.FAIL_EXISTS_RSC_DFN,
                f"disk {name} already exists with profile {disk.profile or '-'} and {disk.size_kib} KiB",
                cause=f"asked for profile {profile} and {size_kib} KiB",
                correction="choose another name, or delete the existing disk first",
            )
        return disk

    def get(self, name: str) -> Disk:
        """The disk ``name`` with its nodes and snapshots (NotFound when it does not exist)."""
        validate_resource_name(name)
        rd = self.client.resource_definitions.get(name)
        return _disk(rd, self.client.resources.list(name), self.client.snapshots.list(name))

    def definition(self, name: str) -> Disk | None:
        """Disk ``name``'s definition (size, profile, properties; no nodes or snapshots), or
        None when there is none: one GET, whatever the number of disks (a listing filtered by
        properties reads every definition)."""
        validate_resource_name(name)
        try:
            return _disk(self.client.resource_definitions.get(name), (), ())
        except NotFound:
            return None

    def exists(self, name: str) -> bool:
        """Whether a resource definition ``name`` exists."""
        return self.definition(name) is not None

    def list(self, owner_props: Mapping[str, str] = {}, *, placement: bool = True) -> builtins.list[Disk]:
        """Every disk whose properties include all of ``owner_props``, sorted by name.

        The controller filters (``props`` query); resources and snapshots of all matches come
        from one view each, never one call per disk. ``placement=False`` skips both views (one
        call in all) for callers that need only names, sizes and properties: the disks then
        list no nodes and no snapshots.
        """
        rds = self.client.resource_definitions.list(props=[f"{k}={v}" for k, v in owner_props.items()])
        if not rds or not placement:
            return [_disk(rd, (), ()) for rd in sorted(rds, key=lambda rd: rd.name)]
        names = tuple(sorted(rd.name for rd in rds)) if len(rds) <= VIEW_FILTER_MAX else ()
        resources = self.client.resources.view(resources=names)
        snapshots = self.client.snapshots.view(resources=names)
        return [_disk(rd, resources, snapshots) for rd in sorted(rds, key=lambda rd: rd.name)]

    def clone(
        self,
        source: str,
        target: str,
        props: Mapping[str, str] = {},
        *,
        profile: str | None = None,
        progress: Callable[[str], None] | None = None,
        timeout: float | None = None,
    ) -> Disk:
        """Clone ``source`` into the new disk ``target`` through LINSTOR's clone API; with
        ``profile``, into that profile's resource group (LINSTOR then uses its pools), else the
        source's.

        Polls the clone status (``progress`` hears each state while waiting) until COMPLETE,
        for ``timeout`` seconds (default: scaled to the source's size, see ``full_write_timeout``).
        When ``props`` (the new owner) are given, they replace the source's ``Aux/bundle/``
        properties in the clone request itself: a clone carrying the source's owner would be a
        second disk under the source's platform name, and a controller that dies between two
        requests would leave exactly that. On FAILED, a timeout or any error after the clone
        started, the target is deleted and the error raised.
        """
        validate_resource_name(source)
        validate_resource_name(target)
        if profile is not None:
            validate_resource_group_name(profile)
        original = self.client.resource_definitions.get(source)
        stale = [key for key in original.props if props and key.startswith(PROP_PREFIX) and key not in props]
        wait = full_write_timeout(_size_kib(original)) if timeout is None else timeout
        self.client.resource_definitions.clone(source, target, resource_group=profile, override_props=props,
                                               delete_props=stale)
        with self._discarded_on_error(target):
            self._await_clone(source, target, progress, wait)
            return self.get(target)

    def _await_clone(
        self, source: str, target: str, progress: Callable[[str], None] | None, timeout: float
    ) -> None:
        deadline = self._clock() + timeout
        interval = POLL_FIRST
        while True:
            status = self.client.resource_definitions.clone_status(source, target)
            if status == "COMPLETE":
                return
            if status == "FAILED":
                raise _refusal(
                    ApiError, retcodes.FAIL_UNKNOWN_ERROR, f"cloning {source} to {target} failed",
                    correction="see the controller's log; the partial clone was removed",
                )
            if self._clock() >= deadline:
                raise LinstorError(
                    f"cloning {source} to {target} did not finish within {timeout:g} s",
                    cause=f"last status {status}",
                    correction="check the controller's log for the copy (a full copy of thick storage runs "
                               "slower than 50 MiB/s?); the partial clone was removed",
                )
            if progress is not None:
                progress(f"cloning {source} to {target}: {status.lower()}")
            self._sleep(interval)
            interval = min(interval * 2, POLL_MAX)

    def snapshot(self, name: str, snapshot: str, nodes: Sequence[str] = ()) -> None:
        """Snapshot disk ``name`` (on ``nodes``, default all its diskful nodes)."""
        validate_resource_name(name)
        validate_snapshot_name(snapshot)
        for node in nodes:
            validate_node_name(node)
        self.client.snapshots.create(name, snapshot, nodes=nodes)

    def delete_snapshot(self, name: str, snapshot: str) -> None:
        """Delete a snapshot; a missing snapshot (or disk) counts as done."""
        validate_resource_name(name)
        validate_snapshot_name(snapshot)
        try:
            self.client.snapshots.delete(name, snapshot)
        except NotFound:
            pass

    def starts_zeroed(self, name: str) -> bool:
        """Whether disk ``name`` read as zeros when it was new: every diskful replica on a
        storage kind that hands out zeroed volumes (``ZEROED_KINDS``; thick LVM does not) with
        no layer between it and DRBD (LUKS would show decrypted noise, a cache its own blocks)."""
        validate_resource_name(name)
        return _zeroed_storage(self.client.resources.list(name))

    def newer_snapshots(self, name: str, snapshot: str) -> list[str] | None:
        """The snapshots of ``name`` taken after ``snapshot``, oldest first; None when it has
        no ``snapshot``. LINSTOR rolls back only to the most recent one: these are in the way."""
        validate_resource_name(name)
        validate_snapshot_name(snapshot)
        snapshots = self.client.snapshots.list(name)
        target = next((s for s in snapshots if s.name == snapshot), None)
        if target is None:
            return None
        by_sequence = all(s.sequence is not None for s in snapshots)

        def place(s: Snapshot) -> int:
            """The rollback's own order where the controller numbers snapshots, else time."""
            return (s.sequence or 0) if by_sequence else s.created_ms

        if not place(target):
            return []  # no way to tell here: the rollback itself is refused if it must be
        return [s.name for s in sorted(snapshots, key=place) if place(s) > place(target)]

    def rollback(self, name: str, snapshot: str) -> None:
        """Roll disk ``name`` back in place to ``snapshot`` (LINSTOR refuses while it is in use)."""
        validate_resource_name(name)
        validate_snapshot_name(snapshot)
        self.client.snapshots.rollback(name, snapshot)

    def restore(
        self, name: str, snapshot: str, target: str, props: Mapping[str, str] = {}, nodes: Sequence[str] = ()
    ) -> Disk:
        """Make the new disk ``target`` from ``name``'s ``snapshot``, in the source's profile,
        carrying ``props``.

        Deploys on ``nodes`` (default: the snapshot's nodes). If any step fails, the target is
        deleted again and the error raised. LINSTOR's restore copies the source's definition
        props over the target's, owner props too: ``props`` are set again afterwards and the
        copied owner props (``Aux/bundle/``) they do not name are removed, so the new disk is
        never taken for its source (one more call, only when something was copied over).
        """
        validate_resource_name(name)
        validate_snapshot_name(snapshot)
        validate_resource_name(target)
        for node in nodes:
            validate_node_name(node)
        source = self.client.resource_definitions.get(name)
        self.client.resource_definitions.create(
            target, resource_group=source.resource_group_name or None, props=props
        )
        with self._discarded_on_error(target):
            self.client.snapshots.restore_volume_definitions(name, snapshot, target)
            self.client.snapshots.restore_resources(name, snapshot, target, nodes=nodes)
            made = self.get(target)
            override = {key: value for key, value in props.items() if made.props.get(key) != value}
            stale = sorted(key for key in made.props if key.startswith(PROP_PREFIX) and key not in props)
            if made.hand_over_nodes and TWO_PRIMARIES not in props:  # copied from a source mid-migration
                stale.append(TWO_PRIMARIES)
            if not override and not stale:
                return made
            self.client.resource_definitions.set_props(target, override=override, delete=stale)
            kept = {key: value for key, value in made.props.items() if key not in stale}
            return dataclasses.replace(made, props={**kept, **override})

    def resize(self, name: str, size_kib: int) -> None:
        """Grow disk ``name`` to ``size_kib``; the same size is a no-op, shrinking InvalidInput."""
        validate_resource_name(name)
        _positive_kib(size_kib)
        current = _size_kib(self.client.resource_definitions.get(name))
        if size_kib < current:
            raise InvalidInput(
                "size", size_kib, f"smaller than the current {current} KiB; disks only grow",
                correction="ask for a size at least as large as the current one",
            )
        if size_kib > current:
            self.client.volume_definitions.resize(name, VOLUME_NUMBER, size_kib)

    def attach(self, name: str, node: str, *, migrating: bool = False) -> str:
        """Device path of disk ``name`` on ``node``, making it available there if needed.

        When ``node`` holds no resource of the disk, LINSTOR's make-available adds a diskless
        one (a DRBD client), never a new replica. A disk without a DRBD layer cannot be reached
        from another node: there make-available would make a new, empty volume, so that is
        refused (InUse) while the disk's data lives on other nodes. ``migrating``: a running guest is about to be
        live-migrated to ``node``, so DRBD allows two primaries (the guest's current node and
        ``node``) until :meth:`end_migration`; if the attach fails, that is withdrawn again.
        """
        validate_resource_name(name)
        validate_node_name(node)
        if not migrating:
            return self._attach(name, node).device
        return self._attach_with_two_primaries(name, node)

    def attach_handing_over(self, name: str, node: str) -> str:
        """:meth:`attach` on the destination of a live migration the platform says is under way.

        The guest still runs on the source, whose DRBD resource is in use: then two primaries
        are allowed, as for ``migrating``, and the pair recorded (``HAND_OVER``), until
        :meth:`end_migration`. A disk in use on no other node (the guest is not running, or
        the disk is not replicated) is attached as :meth:`attach` does it, with no extra call.
        """
        validate_resource_name(name)
        validate_node_name(node)
        resources = self.client.resources.list(name)
        users = [r.node_name for r in resources if r.in_use and r.replicated and r.node_name.lower() != node.lower()]
        if not users:
            return self._attach(name, node, resources).device
        return self._attach_with_two_primaries(name, node, resources, hand_over=f"{users[0]} {node}")

    def _attach_with_two_primaries(self, name: str, node: str, resources: Sequence[Resource] | None = None, *,
                                   hand_over: str | None = None) -> str:
        """Allow two primaries, then attach; withdrawn again if the attach fails."""
        self.client.resource_definitions.set_props(
            name, override={TWO_PRIMARIES: "yes", **({HAND_OVER: hand_over} if hand_over else {})})
        try:
            return self._attach(name, node, resources).device
        except LinstorError as error:
            self._end_two_primaries_after(name, error)
            raise

    def attachment(self, name: str, node: str, *, accept: Callable[[Disk | None], object] | None = None) -> Attachment:
        """:meth:`attach`, also saying whether ``node``'s resource is diskless.

        A caller that remembers it knows, when it is done with the disk, whether
        :meth:`detach` has anything to undo: a resource holding the data stays, so detaching it
        would only be one more call.

        ``accept``, for a caller that must see the disk's definition (its owner, its
        properties) before using it: the definition (None when there is none) is read at the
        same time as the disk's resources, two GETs waited for as one, and handed to
        ``accept`` before anything is changed; ``accept`` raises to refuse the disk, which
        then stays exactly as it was.
        """
        validate_resource_name(name)
        validate_node_name(node)
        if accept is None:
            return self._attach(name, node)
        definition = self._reads.submit(self.definition, name)
        try:
            resources = self.client.resources.list(name)
        finally:
            wait([definition])  # never left running behind the caller
        accept(definition.result())
        return self._attach(name, node, resources)

    def _attach(self, name: str, node: str, resources: Sequence[Resource] | None = None) -> Attachment:
        """``resources``: the disk's, when the caller just listed them."""
        if resources is None:
            resources = self.client.resources.list(name)
        resource = next((r for r in resources if among(node, (r.node_name,))), None)
        if resource is not None and resource.tiebreaker:
            # LINSTOR's own quorum helper, which it may remove or move: make-available turns it
            # into a wanted diskless resource before a guest uses it
            self.client.resources.make_available(name, node, diskful=False)
        elif resource is None:
            holders = sorted(r.node_name for r in resources if not r.diskless)
            if holders and not any(r.replicated for r in resources):
                raise _refusal(
                    InUse, retcodes.FAIL_IN_USE,
                    f"disk {name} has no DRBD layer and its data is only on {', '.join(holders)}: "
                    f"on {node} it would be a new, empty volume",
                    correction=f"use {name} on {', '.join(holders)}, or create disks from a profile "
                               "with layers drbd,storage to reach them from every node",
                )
            self.client.resources.make_available(name, node, diskful=False)
            resource = self._resource_on(name, node)
        device = self._device(name, node, resource)
        return Attachment(device, diskless=resource is not None and resource.diskless,
                          starts_zeroed=_zeroed_storage(resources))

    def end_migration(self, name: str, node: str) -> None:
        """Close a live migration begun by ``attach(..., migrating=True)``, done or failed.

        ``node`` is the node the guest no longer runs on (the source after success, the
        destination after failure): it is detached (a diskful replica stays, see
        :meth:`detach`), and DRBD allows one primary again. Idempotent; a missing disk counts
        as done. Two primaries end even when the detach fails (in use: another guest on ``node``
        still uses a shared image; the node offline), so the failure is all that is left.
        """
        validate_resource_name(name)
        validate_node_name(node)  # a refused name never reaches the controller, not even the undo
        try:
            self.detach(name, node)
        except LinstorError as error:
            self._end_two_primaries_after(name, error)
            raise
        self._end_two_primaries(name)

    def _end_two_primaries_after(self, name: str, error: LinstorError) -> None:
        """Withdraw two primaries after ``error``; a failure of that too is noted on it."""
        with noted_on(error, f"withdrawing two primaries from {name}"):
            self._end_two_primaries(name)

    def end_two_primaries(self, name: str) -> None:
        """Withdraw two primaries (and the hand-over record) from disk ``name``; a missing disk
        counts as done."""
        validate_resource_name(name)
        self._end_two_primaries(name)

    def _end_two_primaries(self, name: str) -> None:
        try:
            self.client.resource_definitions.set_props(name, delete=[TWO_PRIMARIES, HAND_OVER])
        except NotFound:
            pass

    def detach(self, name: str, node: str) -> None:
        """Undo :meth:`attach`: remove ``node``'s resource only if it is diskless.

        A diskful replica stays; LINSTOR may keep a diskless one as tie-breaker. A missing disk
        or resource counts as done (PVE may deactivate twice).
        """
        validate_resource_name(name)
        validate_node_name(node)
        try:
            resource = self._resource_on(name, node)
            if resource is not None and resource.diskless:
                self.client.resources.delete(name, node, keep_tiebreaker=True)
        except NotFound:
            pass

    def path(self, name: str, node: str) -> str:
        """Device path of disk ``name`` on ``node``; NotFound when it is not present there."""
        validate_resource_name(name)
        validate_node_name(node)
        return self._device(name, node, self._resource_on(name, node))

    def device_path(self, name: str, node: str) -> str | None:
        """The device path disk ``name`` has on ``node``, or will have there once :meth:`attach`
        ran; None when no resource of it shows one (no such disk, or none deployed yet).

        A lookup that makes nothing (one resources listing): platforms ask for a path to name
        a disk (listings, command lines built before the disk is attached) far more often than
        they go on to use it. Where ``node`` holds no resource, a DRBD disk's path is the one
        its other resources show, because LINSTOR gives a DRBD volume the same minor on every
        node, so the diskless client :meth:`attach` adds has that path. A storage-only disk's
        is its holder's, a name only: :meth:`attach` refuses to reach it from another node.
        """
        validate_resource_name(name)
        validate_node_name(node)
        resources = self.client.resources.list(name)
        ranked = sorted(resources, key=lambda r: (not among(node, (r.node_name,)), not r.replicated, r.node_name))
        return next((device for device in map(_volume_device, ranked) if device), None)

    def _resource_on(self, name: str, node: str) -> Resource | None:
        return next((r for r in self.client.resources.list(name) if among(node, (r.node_name,))), None)

    @staticmethod
    def _device(name: str, node: str, resource: Resource | None) -> str:
        device = _volume_device(resource) if resource else None
        if device is None:
            raise _refusal(
                NotFound, retcodes.FAIL_NOT_FOUND_RSC, f"disk {name} has no device on node {node}",
                correction=f"attach {name} on {node} first",
            )
        return device

    def delete(self, name: str, *, with_snapshots: bool = False) -> None:
        """Delete disk ``name``; a missing disk counts as done.

        Refused with InUse while it has snapshots, unless ``with_snapshots`` (then they go first,
        unless a resource is in use: then nothing is deleted).
        Without ``with_snapshots`` this is one DELETE: LINSTOR itself refuses to delete a
        definition with snapshots, and only then are they listed, to name them.
        """
        validate_resource_name(name)
        if not with_snapshots:
            try:
                self._discard(name)
            except InUse as refused:
                snapshots = self.client.snapshots.list(name)
                if not snapshots:
                    raise
                listing = ", ".join(sorted(s.name for s in snapshots))
                raise _refusal(
                    InUse, retcodes.FAIL_IN_USE, f"disk {name} still has snapshots: {listing}",
                    correction="delete the snapshots first, or delete with snapshots",
                ) from refused
            return
        try:
            snapshots = self.client.snapshots.list(name)
        except NotFound:
            return
        if snapshots:
            self.refuse_if_in_use(name, correction="stop the guest or container that uses it, then delete it; "
                                                   "its snapshots are kept")
        for snap in snapshots:
            self.delete_snapshot(name, snap.name)
        self._discard(name)

    def refuse_if_in_use(self, name: str, *, correction: str) -> None:
        """Refuse (InUse, with ``correction``) while a resource of ``name`` is in use: for a
        caller about to delete snapshots before a step LINSTOR refuses for a disk in use (it
        checks snapshots before use when it deletes a definition; a rollback needs the newer
        snapshots gone first), so the refusal comes before any snapshot is lost. LINSTOR knows
        a DRBD resource's use (its Primary); a storage-only one is found in use by the step
        itself."""
        validate_resource_name(name)
        busy = sorted(r.node_name for r in self.client.resources.list(name) if r.in_use)
        if busy:
            raise _refusal(InUse, retcodes.FAIL_IN_USE, f"disk {name} is in use on {', '.join(busy)}",
                           correction=correction)

    def set_props(self, name: str, override: Mapping[str, str] = {}, delete: Sequence[str] = ()) -> None:
        """Set and remove properties on disk ``name``'s resource definition."""
        validate_resource_name(name)
        self.client.resource_definitions.set_props(name, override=override, delete=delete)

    def capacity(self, profile: str) -> Capacity:
        """What profile ``profile``'s resource group can still hold (one query-size-info)."""
        validate_resource_group_name(profile)
        return self.client.resource_groups.query_size_info(profile)

    def _discard(self, name: str) -> None:
        try:
            self.client.resource_definitions.delete(name)
        except NotFound:
            pass

    @contextmanager
    def _discarded_on_error(self, name: str) -> Iterator[None]:
        """If the block raises, delete ``name`` and re-raise; a failing clean-up becomes a note
        on the original error rather than hiding it."""
        try:
            yield
        except BaseException as error:
            with noted_on(error, f"removing the partial {name}"):
                self._discard(name)
            raise


__all__ = ["DiskService"]
