"""Small rules several operation modules share: props filters, props edits, layer stacks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from linstor_core import retcodes as rc
from linstor_core.controller.replies import refuse

LAYER_STACKS = {("DRBD", "STORAGE"), ("STORAGE",)}
DEFAULT_LAYERS = ("DRBD", "STORAGE")


def props_match(props: Mapping[str, str], filters: Sequence[str]) -> bool:
    """True if ``props`` satisfies every ``Key=Value`` (value equal) or ``Key`` (present)."""
    for item in filters:
        key, sep, value = item.partition("=")
        if key not in props or (sep and props[key] != value):
            return False
    return True


def edit_props(props: Mapping[str, str], override: Mapping[str, object] | None,
               delete: Iterable[str] | None, delete_namespaces: Iterable[str] | None = None
               ) -> dict[str, str]:
    """``props`` with ``override`` set and ``delete`` keys / namespaces removed.

    A value that is not a JSON string (``true``, ``1``) is refused (400 naming the key) rather
    than stored as Python's ``"True"``/``"1"``: LINSTOR props are strings.
    """
    result = dict(props)
    for key, value in (override or {}).items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise refuse(rc.FAIL_INVLD_PROP, f"Invalid property {key!r}={value!r}: the value of "
                         f"{key!r} is not a string.",
                         correction="Property keys and values are JSON strings, e.g. \"1\".")
        result[key] = value
    for key in delete or ():
        result.pop(key, None)
    for namespace in delete_namespaces or ():
        prefix = namespace.rstrip("/") + "/"
        result = {k: v for k, v in result.items() if not k.startswith(prefix)}
    return result


def layer_stack(layers: Iterable[str] | None) -> tuple[str, ...]:
    """The normalised layer list (``drbd,storage`` or ``storage``); default ``DRBD,STORAGE``."""
    stack = tuple(str(layer).upper() for layer in layers or ())
    if not stack:
        return DEFAULT_LAYERS
    if stack not in LAYER_STACKS:
        raise refuse(rc.FAIL_INVLD_LAYER_STACK,
                     f"The layer stack {','.join(stack)} is not supported.",
                     correction="Use 'drbd,storage' or 'storage'.")
    return stack


def names_filter(names: Sequence[str]) -> set[str] | None:
    """Lower-cased name set for a list filter (``None`` = no filtering)."""
    wanted = {n.lower() for n in names if n}
    return wanted or None
