"""Props filters, props edits and layer stacks as the REST API takes them."""

from __future__ import annotations

import pytest

from linstor_core import retcodes as rc
from linstor_core.controller.ops.common import edit_props, layer_stack, props_match
from linstor_core.errors import ApiError


def test_props_match():
    props = {"Aux/a": "1", "Aux/b": "x=y"}
    assert props_match(props, [])
    assert props_match(props, ["Aux/a=1"])
    assert props_match(props, ["Aux/a"])
    assert props_match(props, ["Aux/b=x=y", "Aux/a"])
    assert not props_match(props, ["Aux/a=2"])
    assert not props_match(props, ["Aux/c"])


def test_edit_props():
    edited = edit_props({"a": "1", "ns/x": "1", "ns/y": "2"}, {"b": "2"}, ["a"], ["ns"])
    assert edited == {"b": "2"}
    with pytest.raises(ApiError) as caught:
        edit_props({}, {"k": {"nested": 1}}, ())
    assert rc.code_of(caught.value.replies[0].ret_code) == rc.FAIL_INVLD_PROP


@pytest.mark.parametrize("value", [True, 1, 1.5, None, ["x"]])
def test_edit_props_refuses_a_value_that_is_not_a_string(value: object):
    """JSON true/1 would otherwise be stored as Python's "True"/"1"."""
    with pytest.raises(ApiError) as caught:
        edit_props({}, {"Aux/flag": value}, ())
    assert caught.value.status == 400
    assert rc.code_of(caught.value.replies[0].ret_code) == rc.FAIL_INVLD_PROP
    assert "'Aux/flag'" in caught.value.replies[0].message


def test_layer_stack():
    assert layer_stack(None) == ("DRBD", "STORAGE")
    assert layer_stack(["storage"]) == ("STORAGE",)
    assert layer_stack(["drbd", "Storage"]) == ("DRBD", "STORAGE")
    with pytest.raises(ApiError):
        layer_stack(["storage", "drbd"])
