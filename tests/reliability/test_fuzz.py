"""Bad input, 10,000 hypothesis cases: no internal error, no traceback reaching a caller, no state change.

4,000 cases go to the controller's REST API over real HTTP, 2,000 each to the Docker plugin
(its WSGI app, as dockerd's JSON), OpenNebula (``linstor-one`` with oned's argv and stdin) and
Proxmox VE (``linstor-pve`` with the shim's request). Every case must be answered the
caller's way: an ApiCallRc list of refusals (never an implementation error or a failed storage
command; HTTP 4xx, or 500 only where LINSTOR itself answers 500: "already exists" and "in
use"), Docker's ``{"Err": ...}`` with HTTP 200, OpenNebula's exit 1 with a line on stderr,
PVE's JSON error of a LINSTOR error type; never a traceback.

A mutation the adapter accepts was valid input after all and may change state (a Remove of
the seeded volume is a real Remove). Every other case, refused or a read, must change nothing:
the controller's database is checked after each case and everything else (listings, pool
files, loop devices, mounts, the OpenNebula sandbox) once per batch (see
``fuzz_stack.StateWatch``).

Cases are derandomized, so every run (and CI) tries the same 10,000.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fuzz_inputs import (ENDPOINTS, docker_bodies, one_argv, one_stdin, pve_requests, raw_bodies,
                         rest_requests)
from fuzz_stack import (GROUP, NODE, Stack, StateWatch, docker_call, docker_client, no_traceback,
                        one_driver, pve_call, pve_request, stack, unmount_under, watch)
from linstor_core import retcodes as rc
from linstor_core.errors import StorageError

BATCH = 500
FAILURES = {rc.FAIL_IMPL_ERROR, rc.FAIL_UNKNOWN_ERROR}
"""A bug, or a storage command that failed: never the answer to bad input."""
DOCKER_MUTATIONS = {"/VolumeDriver.Create", "/VolumeDriver.Remove", "/VolumeDriver.Mount",
                    "/VolumeDriver.Unmount"}
PVE_READS = {"parse_volname", "volume_has_feature", "list_images", "status", "check_connection",
             "path", "volume_rollback_is_possible", "volume_size_info"}
NO_GROUP = "nogroup"
"""The profile the fuzzed adapters create from: it does not exist, so a fuzzed create that
passes every check is still refused by the controller instead of filling the pools."""


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@contextmanager
def seeded_stack(scratch: Path) -> Iterator[Stack]:
    """The controller, with a DRBD resource ``fz`` on alpha and its snapshot ``s1`` (as root)
    so requests on them get past the lookups; fallback controller configuration points at it."""
    with pytest.MonkeyPatch.context() as patch, stack(scratch) as running:
        patch.setenv("LS_CONTROLLERS", running.url)
        url = running.url
        for path, body in [
            ("/v1/resource-definitions", {"resource_definition": {
                "name": "fz", "layer_data": [{"type": "DRBD"}, {"type": "STORAGE"}]}}),
            ("/v1/resource-definitions/fz/volume-definitions", {"volume_definition": {"size_kib": 4096}}),
            ("/v1/resource-definitions/fz/resources",
             [{"resource": {"node_name": NODE, "props": {"StorPoolName": "thinpool"}}}]),
        ]:
            assert requests.post(url + path, json=body, timeout=30).status_code < 400
        requests.post(f"{url}/v1/resource-definitions/fz/snapshots", json={"name": "s1"}, timeout=30)
        yield running


@pytest.fixture(scope="module")
def rest_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own for the REST fuzz: the mutations it is allowed to make (moving
    ``fz``, deleting a pool it emptied) would leave the adapters' seeds nowhere to go."""
    with seeded_stack(tmp_path_factory.mktemp("fuzz-rest")) as running:
        yield running


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack the adapters' fuzzers share (their calls are refused before any change)."""
    with seeded_stack(tmp_path_factory.mktemp("fuzz")) as running:
        yield running


class Cases:
    """Counts a surface's cases and checks the full state every ``BATCH`` of them."""

    def __init__(self, state: StateWatch) -> None:
        self.state = state
        self.count = 0

    def done(self, may_change: bool, what: object) -> None:
        self.state.after(may_change, what)
        self.count += 1
        if self.count % BATCH == 0:
            self.state.check()

    def finish(self, expected: int) -> None:
        self.state.check()
        print(f"\n{self.count} cases, {self.state.changes} accepted mutations")
        assert self.count >= expected
        self.state.close()


def placement_facts(target: Stack) -> object:
    """What the placer saw, for a seeding failure's message: groups, pools and resources."""
    return {path: requests.get(target.url + path, timeout=30).json()
            for path in ("/v1/resource-groups", "/v1/view/storage-pools", "/v1/view/resources")}


# --- the controller's REST API -------------------------------------------------------------


@pytest.mark.root  # a valid snapshot request is a storage failure (500) on pools without reflink
def test_rest_api(rest_target: Stack) -> None:
    cases = Cases(watch(rest_target))
    http = requests.Session()
    http.trust_env = False  # no proxy and netrc look-ups in the environment on every request

    @fuzz(4000)
    @given(call=rest_requests())
    @example(call=("POST", f"/v1/resource-definitions/fz/resources/{NODE}", {"json": {}}))  # exists: 500
    def case(call: tuple[str, str, dict[str, Any]]) -> None:
        method, path, kwargs = call
        answer = http.request(method, rest_target.url + path, timeout=30, **kwargs)
        no_traceback(answer.text)
        data = answer.json()
        if answer.status_code >= 400:
            assert isinstance(data, list) and data, data
            codes = {rc.code_of(r["ret_code"]) for r in data if r["ret_code"] < 0}
            assert codes and not codes & FAILURES, (method, path, kwargs, answer.status_code, data)
            if answer.status_code >= 500:  # LINSTOR's status for these two refusals, kept for its clients
                assert codes <= rc.EXISTS_CODES | rc.IN_USE_CODES, (method, path, kwargs, data)
        reads = method == "GET" or "query" in path  # the query-size-info routes only read
        cases.done(answer.status_code < 400 and not reads, (method, path, kwargs))

    case()
    cases.finish(4000)


# --- Docker --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docker(target: Stack) -> Iterator[tuple[Any, Path]]:
    """The plugin app (default profile ``nogroup``) with one real volume ``seeded``."""
    directory = target.scratch / "docker"
    directory.mkdir()
    config = directory / "docker-volume.conf"
    config.write_text(f"[global]\ncontrollers = {target.url}\nprofile = {NO_GROUP}\nnode = {NODE}\n"
                      f"mount-root = {directory / 'volumes'}\nstate-file = {directory / 'mounts.json'}\n")
    client = docker_client(config)
    status, answer = docker_call(client, "/VolumeDriver.Create",
                                 {"Name": "seeded", "Opts": {"profile": GROUP, "size": "8M"}})
    assert status == 200 and answer["Err"] == "", (answer, placement_facts(target))
    try:
        yield client, directory
    finally:
        unmount_under(directory)


def test_docker_plugin(target: Stack, docker: tuple[Any, Path]) -> None:
    client, directory = docker
    cases = Cases(watch(target, directory))

    @fuzz(2000)
    @given(endpoint=st.sampled_from(ENDPOINTS), body=docker_bodies, raw=st.none() | raw_bodies)
    # Found by this fuzz: refused (its default profile does not exist), it deleted the volume.
    @example(endpoint="/VolumeDriver.Create", body={"Name": "seeded"}, raw=None)
    def case(endpoint: str, body: Any, raw: bytes | None) -> None:
        status, answer = docker_call(client, endpoint, body, raw=raw)
        assert isinstance(answer, dict), answer
        no_traceback(json.dumps(answer))
        if endpoint == "/VolumeDriver.Nope":
            assert status == 404 and answer["Err"], answer
            may_change = False
        else:
            assert status == 200, (status, answer)
            may_change = not answer.get("Err") and endpoint in DOCKER_MUTATIONS
        cases.done(may_change, (endpoint, body, raw))

    case()
    cases.finish(2000)


# --- OpenNebula ----------------------------------------------------------------------------


def _refuse_host_commands(argv: list[str], **_: Any) -> str:
    """Fuzzed host paths must never reach this machine's file system: every command a host
    would run (links, mkfs, rm -rf of a VM directory) fails as an unreachable ssh would."""
    raise StorageError(list(argv), 255, "ssh: fuzz hosts run no commands")


def test_opennebula_driver(target: Stack) -> None:
    sandbox = target.scratch / "one"
    uploads = sandbox / "uploads"
    uploads.mkdir(parents=True)
    upload = uploads / "img.raw"
    upload.write_bytes(bytes(1024 * 1024))
    template = {"LINSTOR_CONTROLLERS": target.url, "LINSTOR_RESOURCE_GROUP": NO_GROUP,
                "LINSTOR_FRONTEND_NODE": NODE, "RESTRICTED_DIRS": "/", "SAFE_DIRS": str(uploads)}
    with one_driver(sandbox, template, hosts_runner=_refuse_host_commands) as one:
        cases = Cases(watch(target, sandbox))

        @fuzz(2000)
        @given(argv=one_argv(str(sandbox)), stdin=one_stdin(template, str(upload)))
        def case(argv: list[str], stdin: bytes) -> None:
            answer = one.call(argv, stdin)
            no_traceback(answer.text)
            assert answer.status in (0, 1), answer
            if answer.status == 1:
                assert answer.stderr.strip(), answer
            cases.done(answer.status == 0 and argv[1:2] not in (["monitor"], ["stat"]), (argv, stdin))

        case()
        cases.finish(2000)


# --- Proxmox VE ----------------------------------------------------------------------------


def test_proxmox_plugin(target: Stack) -> None:
    """Storage ``fz`` creates from ``nogroup``; its disk vm-100-disk-0 (made through a section
    naming the real group) exists, so fuzzed calls on it can get through."""
    cache = target.scratch / "pve-cache"
    scfg = {"type": "linstor", "resourcegroup": NO_GROUP, "controller": target.url, "statuscache": "0"}
    seeded = pve_call("alloc_image", pve_request("fz", {**scfg, "resourcegroup": GROUP},
                                                 {"vmid": 100, "fmt": "raw", "name": None, "size": 4096}), cache)
    assert seeded.status == 0 and "vm-100-disk-0" in seeded.stdout, (seeded, placement_facts(target))
    cases = Cases(watch(target))

    @fuzz(2000)
    @given(call=pve_requests(scfg))
    @example(call=("list_images", pve_request("fz", scfg, {"vollist": 1})))  # was a TypeError
    def case(call: tuple[str, Any]) -> None:
        method, request = call
        answer = pve_call(method, request, cache)
        no_traceback(answer.text)
        assert answer.status in (0, 1), answer
        reply = json.loads(answer.stdout)
        if answer.status == 1:
            assert reply["error"]["type"] != "InternalError" and reply["error"]["message"], reply
        else:
            assert "result" in reply, reply
        cases.done(answer.status == 0 and method not in PVE_READS, call)

    case()
    cases.finish(2000)
