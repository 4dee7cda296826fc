"""``docker volume create -o KEY=VALUE`` options: parsed, checked, and recorded on the volume.

Every option is checked before anything is created, so a typo never leaves half a volume. The
parsed options are stored on the resource definition as ``Aux/bundle/docker/<key>`` properties in
their canonical form, which is what makes Create idempotent: the same name with options that
mean the same thing ("100MB" and "97657KiB") is the same volume, anything else is an error that
says what differs.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from linstor_core import filesystems, naming, units
from linstor_core.errors import InvalidInput
from linstor_core.models import SelectFilter

DEFAULT_SIZE = "100MB"
MIN_SIZE_KIB = 4 * 1024
MAX_REPLICAS = 16
PROP_PREFIX = naming.PROP_PREFIX + "docker/"

VALID_OPTIONS = ("size", "profile", "fs", "fsopts", "mountopts", "replicas", "storagepool", "nodes")
PLACEMENT_OPTIONS = ("replicas", "storagepool", "nodes")
"""The options that override the profile's placement (``VolumeOptions.select_filter``)."""


@dataclass(frozen=True)
class VolumeOptions:
    """One volume's options, canonical: equal objects mean the same volume."""

    size_kib: int
    profile: str
    fs: str = "ext4"
    fsopts: tuple[str, ...] = ()
    mountopts: tuple[str, ...] = ()
    replicas: int | None = None
    storagepool: str | None = None
    nodes: tuple[str, ...] = ()

    def select_filter(self) -> SelectFilter | None:
        """The placement overrides of the profile for this volume, or None when none was given.

        ``replicas`` is the place count; ``storagepool`` the pool every replica is taken from;
        ``nodes`` the nodes allowed to hold replicas, one replica on each unless ``replicas``
        asks for fewer (or more, which LINSTOR refuses). Whatever is not given stays as the
        profile has it.
        """
        if self.replicas is None and self.storagepool is None and not self.nodes:
            return None
        return SelectFilter(
            place_count=self.replicas if self.replicas is not None else (len(self.nodes) or None),
            storage_pool=self.storagepool,
            node_name_list=self.nodes,
        )

    def to_props(self) -> dict[str, str]:
        """The options as ``Aux/bundle/docker/<key>`` properties (only the ones that are set)."""
        return {PROP_PREFIX + key: value for key, value in self.to_docker_opts().items()}

    @classmethod
    def from_props(cls, props: Mapping[str, str]) -> VolumeOptions:
        """Read back what :meth:`to_props` stored (a volume made by an older release: defaults)."""
        opts = {key[len(PROP_PREFIX):]: value for key, value in props.items() if key.startswith(PROP_PREFIX)}
        return parse_options(opts, default_profile=opts.get("profile", ""), created=True)

    def differences(self, other: VolumeOptions) -> list[str]:
        """Human lines naming each option that differs, e.g. ``"fs: ext4, asked xfs"``."""
        mine, theirs = self.to_docker_opts(), other.to_docker_opts()
        differing = [key for key in VALID_OPTIONS if _comparable(key, mine.get(key)) != _comparable(key, theirs.get(key))]
        mine["size"], theirs["size"] = _shown_sizes(self.size_kib, other.size_kib)
        return [f"{key}: {mine.get(key, 'unset')}, asked {theirs.get(key, 'unset')}" for key in differing]

    def to_docker_opts(self) -> dict[str, str]:
        """The options that are set, as ``-o KEY=VALUE`` would give them (sizes in KiB)."""
        opts = {
            "size": f"{self.size_kib}KiB",
            "profile": self.profile,
            "fs": self.fs,
            "fsopts": shlex.join(self.fsopts),
            "mountopts": ",".join(self.mountopts),
            "replicas": "" if self.replicas is None else str(self.replicas),
            "storagepool": self.storagepool or "",
            "nodes": ",".join(self.nodes),
        }
        return {key: value for key, value in opts.items() if value}


def parse_options(opts: object, *, default_profile: str, created: bool = False) -> VolumeOptions:
    """Check Docker's ``Opts`` (a string map, or null) and return the canonical options.

    Raises InvalidInput naming the option: unknown keys (listing the valid ones), sizes below
    4 MiB or too small for the filesystem, unsupported filesystems, bad names, mkfs options
    that reach beyond the volume. ``created``: options read back from a volume made earlier,
    whose mkfs options are not checked again (a release that refuses more must not make a
    volume with a filesystem made long ago unmountable; a mkfs still to run checks them).
    """
    if opts is None:
        opts = {}
    if not isinstance(opts, Mapping) or not all(isinstance(v, str) for v in opts.values()):
        raise InvalidInput("Opts", opts, "must be a map of option names to strings")
    unknown = sorted(set(opts) - set(VALID_OPTIONS))
    if unknown:
        raise InvalidInput(
            "option", ", ".join(unknown), "unknown", correction=f"valid options are {', '.join(VALID_OPTIONS)}"
        )
    fs = filesystems.check_filesystem_type(opts.get("fs") or "ext4")
    size_kib = units.parse_size_kib(opts.get("size") or DEFAULT_SIZE, field="size")
    if size_kib < MIN_SIZE_KIB:
        raise InvalidInput("size", opts.get("size"), "must be at least 4 MiB")
    filesystems.check_size(fs, size_kib)
    profile = opts.get("profile") or default_profile
    if not profile:
        raise InvalidInput(
            "profile", profile, "no profile given and none configured",
            correction="pass -o profile=NAME or set profile= in /etc/linstor/docker-volume.conf",
        )
    storagepool = opts.get("storagepool") or None
    return VolumeOptions(
        size_kib=size_kib,
        profile=naming.validate_resource_group_name(profile),
        fs=fs,
        fsopts=_fsopts(fs, opts.get("fsopts", ""), checked=not created),
        mountopts=_split_list(opts.get("mountopts", "")),
        replicas=_replicas(opts.get("replicas", "")),
        storagepool=None if storagepool is None else naming.validate_storage_pool_name(storagepool),
        nodes=_nodes(opts.get("nodes", "")),
    )


_NAMES_IGNORING_CASE = frozenset({"profile", "storagepool", "nodes"})
"""Options holding LINSTOR names, which ignore case: ``profile=Gold`` asks for the same as ``gold``."""


def _shown_sizes(mine: int, theirs: int) -> tuple[str, str]:
    """Two sizes as people read them, in KiB too where the short forms alone look the same."""
    shown = units.format_kib(mine), units.format_kib(theirs)
    if mine != theirs and shown[0] == shown[1]:
        return f"{shown[0]} ({mine} KiB)", f"{shown[1]} ({theirs} KiB)"
    return shown


def _comparable(key: str, value: str | None) -> str | None:
    return value.casefold() if value is not None and key in _NAMES_IGNORING_CASE else value


def _fsopts(fs: str, text: str, *, checked: bool) -> tuple[str, ...]:
    words = _split_words("fsopts", text)
    return tuple(filesystems.check_mkfs_options(fs, words)) if checked else words


def _split_words(field: str, text: str) -> tuple[str, ...]:
    """mkfs options as a shell would split them ("-E nodiscard -L data"); never run by one."""
    try:
        return tuple(shlex.split(text))
    except ValueError as error:
        raise InvalidInput(field, text, str(error), correction="balance the quotes") from None


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _nodes(text: str) -> tuple[str, ...]:
    """The node names, each once (LINSTOR names ignore case), in one order: placement does
    not depend on it, so ``a,b`` and ``b,a`` are the same volume."""
    nodes = [naming.validate_node_name(node) for node in _split_list(text)]
    seen: set[str] = set()
    for node in nodes:
        if node.casefold() in seen:
            raise InvalidInput("nodes", text, f"names node {node} twice", correction="name each node once")
        seen.add(node.casefold())
    return tuple(sorted(nodes, key=str.casefold))


def _replicas(text: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_REPLICAS:
        raise InvalidInput("replicas", text, f"must be a whole number from 1 to {MAX_REPLICAS}")
    return int(text)


__all__ = ["VALID_OPTIONS", "DEFAULT_SIZE", "MIN_SIZE_KIB", "VolumeOptions", "parse_options"]
