"""The autoplacer's rules, on hand-made candidates (pure, no controller)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linstor_core import retcodes as rc
from linstor_core.controller.placement import Candidate, Request, choose, eligible, place
from linstor_core.errors import ApiError


def cand(node: str, free: int = 100, pool: str = "thin", **props: str) -> Candidate:
    return Candidate(node=node, pool=pool, free_kib=free, node_props=props)


def nodes(chosen: list[Candidate]) -> list[str]:
    return [c.node for c in chosen]


def test_prefers_most_free_space():
    pool = [cand("a", 10), cand("b", 30), cand("c", 20)]
    assert nodes(place(pool, Request("r", 2, 5))) == ["b", "c"]


def test_ties_broken_by_name_whatever_the_input_order():
    pool = [cand("charlie"), cand("alpha"), cand("bravo")]
    assert nodes(place(pool, Request("r", 2, 5))) == ["alpha", "bravo"]
    assert nodes(place(list(reversed(pool)), Request("r", 2, 5))) == ["alpha", "bravo"]


def test_one_replica_per_node_best_pool():
    pool = [cand("a", 10, "small"), cand("a", 50, "big"), cand("b", 20)]
    chosen = place(pool, Request("r", 2, 5))
    assert [(c.node, c.pool) for c in chosen] == [("a", "big"), ("b", "thin")]


def test_size_pool_and_node_filters():
    pool = [cand("a", 4), cand("b", 100, "other"), cand("c", 100), cand("d", 100)]
    request = Request("r", 1, 5, storage_pools=("thin",), node_names=("a", "b", "d"))
    assert nodes(place(pool, request)) == ["d"]


def test_diskless_pools_and_existing_resource_skipped():
    pool = [Candidate("a", "dl", 10**9, diskless=True),
            Candidate("b", "thin", 100, resources=frozenset({"r"})), cand("c")]
    assert nodes(place(pool, Request("R", 1, 5))) == ["c"]


def test_not_place_with():
    pool = [Candidate("a", "thin", 100, resources=frozenset({"db"})),
            Candidate("b", "thin", 90, resources=frozenset({"web-1"})), cand("c", 80)]
    assert nodes(place(pool, Request("r", 1, 5, not_place_with_rsc=("DB",)))) == ["b"]
    assert nodes(place(pool, Request("r", 2, 5, not_place_with_rsc_regex="web-.*"))) == ["a", "c"]


def test_replicas_on_same_picks_the_group_that_fits():
    pool = [cand("a", 100, site="x"), cand("b", 10, site="y"), cand("c", 10, site="y"),
            cand("d", 50)]
    assert nodes(place(pool, Request("r", 2, 5, replicas_on_same=("site",)))) == ["b", "c"]
    with pytest.raises(ApiError):
        place(pool, Request("r", 3, 5, replicas_on_same=("site",)))


def test_replicas_on_same_follows_existing_replicas():
    pool = [cand("a", 100, site="x"), cand("b", 10, site="y"), cand("c", 20, site="y")]
    request = Request("r", 1, 5, replicas_on_same=("site",), existing=({"site": "y"},))
    assert nodes(place(pool, request)) == ["c"]


def test_replicas_on_different():
    pool = [cand("a", 100, rack="1"), cand("b", 90, rack="1"), cand("c", 10, rack="2")]
    assert nodes(place(pool, Request("r", 2, 5, replicas_on_different=("rack",)))) == ["a", "c"]
    request = Request("r", 1, 5, replicas_on_different=("rack",), existing=({"rack": "1"},))
    assert nodes(place(pool, request)) == ["c"]


def test_not_enough_nodes_is_linstors_error():
    with pytest.raises(ApiError) as caught:
        place([cand("a")], Request("r", 2, 5))
    assert rc.code_of(caught.value.replies[0].ret_code) == rc.FAIL_NOT_ENOUGH_NODES
    assert caught.value.replies[0].message == "Not enough available nodes"
    assert choose([cand("a")], Request("r", 2, 5)) is None


def test_zero_count_and_eligible():
    assert place([], Request("r", 0, 5)) == []
    assert nodes(eligible([cand("b", 1), cand("a", 2)], Request("r", 1, 0))) == ["a", "b"]


def test_thousand_nodes_is_fast_and_deterministic():
    pool = [cand(f"n{i:04d}", 1000 - i % 7, site=str(i % 10)) for i in range(1000)]
    first = place(pool, Request("r", 3, 5, replicas_on_different=("site",)))
    assert nodes(first) == nodes(place(list(reversed(pool)), Request(
        "r", 3, 5, replicas_on_different=("site",))))
    assert len({c.node_props["site"] for c in first}) == 3


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.sampled_from("abcdefgh"), st.sampled_from(["thin", "ssd"]), st.integers(0, 50),
                       st.booleans(), st.booleans()), max_size=20),
    st.integers(1, 4),
)
def test_without_group_or_spread_rules_the_best_nodes_are_the_head_of_the_ranking(
    rows: list[tuple[str, str, int, bool, bool]], count: int
) -> None:
    """The short path (no replicas_on_same/different) picks what the general path would."""
    pool = [Candidate(node, name, free, diskless, resources=frozenset({"r"}) if holds else frozenset())
            for node, name, free, diskless, holds in rows]
    request = Request("r", count, 10)
    ranked = eligible(pool, request)
    assert choose(pool, request) == (ranked[:count] if len(ranked) >= count else None)
