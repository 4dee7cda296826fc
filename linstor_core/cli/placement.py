"""Autoplacer options shared by ``resource-group create`` and ``resource create --auto-place``.

Both end in one ``SelectFilter``; keeping the options in one place keeps their spelling and
meaning identical, as in the linstor client. List options take commas or repetition
(``--layer-list drbd,storage``, ``--replicas-on-different Aux/site --replicas-on-different Aux/rack``)
so that they can never swallow the positional arguments that follow them.
"""

from __future__ import annotations

import argparse

from linstor_core.cli.parser import comma_list
from linstor_core.errors import InvalidInput
from linstor_core.models import MAX_PLACE_COUNT, SelectFilter
from linstor_core.naming import validate_prop_key, validate_resource_name

LAYERS = ("drbd", "storage", "luks", "nvme", "writecache", "cache", "bcache")


def layer_list(text: str) -> list[str]:
    """Layer names in the REST API's spelling (``DRBD``); any case is accepted on input."""
    layers = comma_list(text)
    unknown = [layer for layer in layers if layer.lower() not in LAYERS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown layer {unknown[0]!r}; known: {', '.join(LAYERS)}")
    return [layer.upper() for layer in layers]


def resource_names(text: str) -> list[str]:
    return [validate_resource_name(name) for name in comma_list(text)]


def add_layer_list(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-l", "--layer-list", type=layer_list, action="extend", metavar="LAYER,...",
                        help="layers top to bottom, e.g. drbd,storage (replicated) or storage (local)")


def add_placement_options(parser: argparse.ArgumentParser) -> None:
    add_layer_list(parser)
    parser.add_argument("--replicas-on-same", type=comma_list, action="extend", metavar="PROP,...",
                        help="place all replicas on nodes with equal values of these node properties")
    parser.add_argument("--replicas-on-different", type=comma_list, action="extend", metavar="PROP,...",
                        help="place replicas on nodes with different values of these node properties")
    parser.add_argument("--do-not-place-with", type=resource_names, action="extend", metavar="RESOURCE,...",
                        help="avoid nodes that already hold one of these resources")
    parser.add_argument("--do-not-place-with-regex", metavar="REGEX",
                        help="avoid nodes holding a resource whose name matches REGEX")
    parser.add_argument("--diskless-on-remaining", action=argparse.BooleanOptionalAction, default=None,
                        help="give every remaining node a diskless resource")


def select_filter(args: argparse.Namespace, *, place_count: int | None,
                  storage_pools: list[str] | None) -> SelectFilter:
    """The ``SelectFilter`` these options describe; one pool goes in ``storage_pool``. Checked
    as the profiles file is: at most ``MAX_PLACE_COUNT`` replicas, each pool once (names ignore
    case), property keys that are keys."""
    pools = storage_pools or []
    if place_count is not None and place_count > MAX_PLACE_COUNT:
        raise InvalidInput("place count", place_count, f"must be at most {MAX_PLACE_COUNT}")
    if len({pool.casefold() for pool in pools}) != len(pools):
        raise InvalidInput("storage pool", ",".join(pools), "names a pool twice", correction="name each pool once")
    for key in (*(args.replicas_on_same or ()), *(args.replicas_on_different or ())):
        validate_prop_key(key.partition("=")[0], "replicas-on property")  # KEY, or KEY=VALUE as LINSTOR takes it
    return SelectFilter(
        place_count=place_count,
        storage_pool=pools[0] if len(pools) == 1 else None,
        storage_pool_list=tuple(pools) if len(pools) > 1 else (),
        replicas_on_same=tuple(args.replicas_on_same or ()),
        replicas_on_different=tuple(args.replicas_on_different or ()),
        not_place_with_rsc=tuple(args.do_not_place_with or ()),
        not_place_with_rsc_regex=args.do_not_place_with_regex,
        layer_stack=tuple(args.layer_list or ()),
        diskless_on_remaining=args.diskless_on_remaining,
    )


def describe(selection: SelectFilter) -> str:
    """A select filter as the multi-line cell the linstor client shows in ``rg list``."""
    lines = []
    if selection.place_count is not None:
        lines.append(f"PlaceCount: {selection.place_count}")
    pools = selection.storage_pool_list or ((selection.storage_pool,) if selection.storage_pool else ())
    if pools:
        lines.append(f"StoragePool(s): {', '.join(pools)}")
    if selection.layer_stack:
        lines.append(f"LayerStack: {','.join(selection.layer_stack)}")
    if selection.replicas_on_same:
        lines.append(f"ReplicasOnSame: {', '.join(selection.replicas_on_same)}")
    if selection.replicas_on_different:
        lines.append(f"ReplicasOnDifferent: {', '.join(selection.replicas_on_different)}")
    if selection.not_place_with_rsc:
        lines.append(f"DoNotPlaceWith: {', '.join(selection.not_place_with_rsc)}")
    if selection.diskless_on_remaining is not None:
        lines.append(f"DisklessOnRemaining: {selection.diskless_on_remaining}")
    return "\n".join(lines)
