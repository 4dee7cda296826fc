"""Profiles files: validated with messages naming profile, field and fix; applied idempotently."""

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import responses

from linstor_core import retcodes
from linstor_core.client import LinstorClient
from linstor_core.config import ClientConfig
from linstor_core.errors import ConfigError, ControllerUnreachable, InvalidInput, LinstorError
from linstor_core.models import SelectFilter
from linstor_core.profiles import Profile, ProfilesNotApplied, apply_profiles, load_profiles, parse_profiles

GOLD = """
[profiles.gold]
description = "3 replicas on thinpool"
place_count = 3
storage_pool = "thinpool"
layers = ["drbd", "storage"]
replicas_on_different = ["Aux/site"]
replicas_on_same = []
diskless_on_remaining = true
[profiles.gold.drbd_options]
"Net/protocol" = "C"
"Net/max-buffers" = 8000
[profiles.gold.props]
"Aux/tier" = "gold"

[profiles.silver]
storage_pools = ["pool_a", "pool_b"]
"""


def test_a_full_profile_parses() -> None:
    profiles = parse_profiles(GOLD, "p.toml")
    assert list(profiles) == ["gold", "silver"]
    gold = profiles["gold"]
    assert gold.resource_group_name == "gold"
    assert gold.description == "3 replicas on thinpool"
    assert gold.props == {
        "DrbdOptions/Net/protocol": "C",
        "DrbdOptions/Net/max-buffers": "8000",
        "Aux/tier": "gold",
    }
    assert gold.select_filter == SelectFilter(
        place_count=3,
        storage_pool="thinpool",
        storage_pool_list=("thinpool",),
        replicas_on_different=("Aux/site",),
        layer_stack=("DRBD", "STORAGE"),
        diskless_on_remaining=True,
    )
    assert profiles["silver"].select_filter == SelectFilter(storage_pool_list=("pool_a", "pool_b"))


def test_load_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text(GOLD)
    assert load_profiles(path)["silver"] == Profile(name="silver", storage_pools=("pool_a", "pool_b"))


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read profiles file"):
        load_profiles(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("text", "field", "reason", "fix"),
    [
        ("[profiles.gold]\nplace_count = 0", "p.toml: profile gold field place_count", "at least 1", "1 or more"),
        ("[profiles.gold]\nplace_count = 99", "p.toml: profile gold field place_count", "at most 32", "32 or less"),
        ('[profiles.gold]\nplace_count = "3"', "p.toml: profile gold field place_count", "an integer", "write an integer"),
        ("[profiles.gold]\nplace_cont = 3", "p.toml: profile gold", "unknown key", "valid keys: description, "),
        ('[profiles.gold]\nstorage_pool = "a1"', "p.toml: profile gold field storage_pool", "not a valid", "3 to 48"),
        (
            '[profiles.gold]\nstorage_pool = "abc"\nstorage_pools = ["xyz"]',
            "p.toml: profile gold", "exclude each other", "only one",
        ),
        ('[profiles.gold]\nlayers = ["drbd", "zfs"]', "p.toml: profile gold field layers.1", "allowed", "drbd, luks"),
        ('[profiles.gold]\nlayers = ["storage", "drbd"]', "p.toml: profile gold field layers", "last layer", '["drbd", "storage"]'),
        ('[profiles.gold]\nlayers = ["drbd", "drbd"]', "p.toml: profile gold field layers", "twice", "duplicate"),
        ("[profiles.gold]\nlayers = []", "p.toml: profile gold field layers", "empty", "at least one"),
        ('[profiles."1x"]\nplace_count = 1', "p.toml: profile 1x", "not a valid LINSTOR name", "letter or _ first"),
        ("[profiles.__]\nplace_count = 1", "p.toml: profile __ resource group name", "letter", "letters"),
        ('[profiles.gold.drbd_options]\n"Net/protocol" = true', "p.toml: profile gold field drbd_options.Net/protocol", "string or an integer", "write"),
        ('[profiles.gold.props]\n"a b" = "x"', "p.toml: profile gold field props.a b", "not a valid", "property key"),
        ('[profiles.gold.props]\n"Aux/x\\n" = "x"', "p.toml: profile gold field props.Aux/x\n", "not a valid", "property key"),
        ("[profiles.gold]\nplace_count = 1\n[profiles.Gold]\nplace_count = 2", "profile name",
         "the same resource group as profile gold", "rename one"),
        ("[profile.gold]\nplace_count = 1", "p.toml: top level", "unknown key", "valid keys: profiles"),
        ("", "p.toml: top level", "no profiles table", "[profiles.<name>]"),
        ("[profiles]", "p.toml: profiles", "empty", "[profiles.<name>]"),
        ("x = = 1", "profiles file", "not valid TOML", "syntax"),
    ],
)
def test_bad_profiles_name_the_field_and_the_fix(text: str, field: str, reason: str, fix: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_profiles(text, "p.toml")
    assert info.value.field == field
    assert reason in info.value.reason
    assert fix in info.value.correction


def test_unknown_keys_are_listed() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_profiles("[profiles.gold]\nfoo = 1\nbar = 2", "p.toml")
    assert info.value.value == ["bar", "foo"]
    assert "unknown keys" in str(info.value)


def test_more_problems_are_counted() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_profiles("[profiles.gold]\nplace_count = 0\nlayers = []", "p.toml")
    assert info.value.__notes__ == ["1 more problem in the file"]


BASE = "http://ctl.test:3370"
RG = f"{BASE}/v1/resource-groups"
OK = [{"ret_code": 1, "message": "done"}]
MISSING = [{"ret_code": retcodes.FAIL_NOT_FOUND_RSC_GRP, "message": "no such group"}]


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def client() -> LinstorClient:
    return LinstorClient(ClientConfig(controllers=(BASE,)))


def sent(http: responses.RequestsMock, method: str) -> list[dict[str, Any]]:
    return [json.loads(c.request.body) for c in http.calls if c.request.method == method]


def test_apply_creates_missing_groups(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.get(f"{RG}/gold", status=404, json=MISSING)
    http.post(RG, status=201, json=OK)
    assert apply_profiles(client, {"gold": parse_profiles(GOLD)["gold"]}) == ["created gold"]
    created = sent(http, "POST")[0]
    assert created["name"] == "gold"
    assert created["description"] == "3 replicas on thinpool"
    assert created["select_filter"]["place_count"] == 3
    assert created["select_filter"]["layer_stack"] == ["DRBD", "STORAGE"]
    assert created["props"]["DrbdOptions/Net/protocol"] == "C"
    assert len(http.calls) == 2


def test_apply_again_changes_nothing(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.get(f"{RG}/gold", json={
        "name": "gold",
        "description": "3 replicas on thinpool",
        "select_filter": {
            "place_count": 3, "storage_pool": "thinpool", "storage_pool_list": ["thinpool"],
            "replicas_on_different": ["Aux/site"], "layer_stack": ["DRBD", "STORAGE"], "diskless_on_remaining": True,
        },
        "props": {"DrbdOptions/Net/protocol": "C", "DrbdOptions/Net/max-buffers": "8000", "Aux/tier": "gold", "Other": "1"},
    })
    assert apply_profiles(client, [parse_profiles(GOLD)["gold"]]) == ["unchanged gold"]
    assert len(http.calls) == 1


def test_apply_updates_what_differs(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.get(f"{RG}/gold", json={
        "name": "gold",
        "select_filter": {"place_count": 2, "storage_pool": "thinpool"},
        "props": {"DrbdOptions/Net/protocol": "A"},
    })
    http.put(f"{RG}/gold", json=OK)
    text = '[profiles.gold]\nplace_count = 3\nstorage_pool = "thinpool"\n[profiles.gold.drbd_options]\n"Net/protocol" = "C"'
    assert apply_profiles(client, parse_profiles(text)) == [
        "updated gold: place_count 2 -> 3, DrbdOptions/Net/protocol 'A' -> 'C'"
    ]
    modified = sent(http, "PUT")[0]
    assert modified["select_filter"]["place_count"] == 3
    assert modified["override_props"] == {"DrbdOptions/Net/protocol": "C"}


def test_the_shipped_schema_is_a_valid_json_schema() -> None:
    schema = json.loads(resources.files("linstor_core").joinpath("schemas/profiles.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)


def test_a_refused_profile_does_not_stop_the_others(http: responses.RequestsMock, client: LinstorClient) -> None:
    """Profiles are applied one by one: a refusal of the second leaves the first applied, the
    third is still applied, and the error names the refused one, with every profile's line
    for the operator and for a script reading -m."""
    text = "[profiles.gold]\nplace_count = 1\n[profiles.silver]\nplace_count = 2\n[profiles.bronze]\nplace_count = 1\n"
    for name in ("gold", "silver", "bronze"):
        http.get(f"{RG}/{name}", status=404, json=MISSING)
    http.post(RG, status=201, json=OK)
    http.post(RG, status=500, json=[{"ret_code": retcodes.MASK_ERROR | 1, "message": "Access denied"}])
    http.post(RG, status=201, json=OK)
    with pytest.raises(ProfilesNotApplied, match="1 of 3 profiles could not be applied: silver") as raised:
        apply_profiles(client, parse_profiles(text))
    assert raised.value.lines == ["created gold", "failed silver: Access denied", "created bronze"]


def test_an_unreachable_controller_stops_the_apply(http: responses.RequestsMock, client: LinstorClient) -> None:
    text = "[profiles.gold]\nplace_count = 1\n[profiles.silver]\nplace_count = 2\n"
    http.get(f"{RG}/gold", status=404, json=MISSING)
    http.post(RG, status=201, json=OK)
    http.get(f"{RG}/silver", body=requests.ConnectionError("refused"))
    with pytest.raises(ControllerUnreachable) as raised:
        apply_profiles(client, parse_profiles(text))
    assert raised.value.__notes__ == ["done before this: created gold"]


def test_a_whole_float_place_count_is_that_number() -> None:
    assert parse_profiles("[profiles.flt]\nplace_count = 2.0\n")["flt"].place_count == 2
    assert parse_profiles("[profiles.flt]\nplace_count = 2.0\n")["flt"].select_filter.place_count == 2


def test_a_drbd_option_set_twice_is_refused() -> None:
    text = '[profiles.ord]\ndrbd_options = {"Net/protocol" = "C"}\nprops = {"DrbdOptions/Net/protocol" = "A"}\n'
    with pytest.raises(InvalidInput, match="also drbd_options 'Net/protocol'"):
        parse_profiles(text)


@pytest.mark.parametrize("key", ["Aux/", "a//b", "/Aux", "Aux/si te"])
def test_a_property_key_with_an_empty_part_is_refused(key: str) -> None:
    with pytest.raises(InvalidInput):
        parse_profiles(f'[profiles.keys]\nprops = {{"{key}" = "x"}}\n')


def test_the_schemas_place_count_limit_is_the_clis() -> None:
    from linstor_core.models import MAX_PLACE_COUNT

    schema = json.loads(resources.files("linstor_core").joinpath("schemas/profiles.schema.json").read_text())
    assert schema["$defs"]["profile"]["properties"]["place_count"]["maximum"] == MAX_PLACE_COUNT
