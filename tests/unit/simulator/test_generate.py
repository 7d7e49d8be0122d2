"""The generated world: deterministic, realistic, and full of the traps extractors must face."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import timedelta

from simulator import World, WorldSpec, generate_world
from simulator.timefmt import NS_PER_S, parse_iso_ns

from .conftest import NOW, SPEC

HEX24 = re.compile(r"^[0-9a-f]{24}$")


def _dates(records: list[dict[str, object]], field: str) -> list[int]:
    return [parse_iso_ns(str(r[field])) for r in records]


def test_same_spec_same_world_and_seed_matters() -> None:
    """The same spec and now give identical records; another seed gives other records."""
    a, b = generate_world(SPEC, NOW), generate_world(SPEC, NOW)
    other = generate_world(WorldSpec(seed=8, projects=2, days=10), NOW)
    name = a.project_names[0]
    assert a.token == b.token
    assert a.truth_logs(name) == b.truth_logs(name)
    assert a.truth_requests(name) == b.truth_requests(name)
    assert a.truth_audit_events(name) == b.truth_audit_events(name)
    assert other.truth_requests(name)[0]["id"] != a.truth_requests(name)[0]["id"]


def test_world_is_relative_to_now() -> None:
    """History spans `days` before now and nothing is dated after now."""
    world = generate_world(SPEC, NOW + timedelta(days=3))
    name = world.project_names[0]
    logs = _dates(world.truth_logs(name), "date")
    now_ns = int((NOW + timedelta(days=3)).timestamp()) * NS_PER_S
    assert max(logs) <= now_ns
    assert min(logs) >= now_ns - 11 * 86_400 * NS_PER_S


def test_organisations_and_visibility(shared_world: World) -> None:
    """The token's organisation has `projects` projects; another organisation exists too."""
    assert len(shared_world.project_names) == SPEC.projects
    foreign = shared_world.foreign_projects
    assert foreign
    assert all(name not in shared_world.project_names for name, _ in foreign)
    assert all(token != shared_world.token for _, token in foreign)


def test_log_ids_and_dates_look_like_the_live_service(shared_world: World) -> None:
    """Log ids are 24 hex led by the creation second, pages are in (date, id) order, and
    dates mix 6/9 digits and Z/+00:00."""
    logs = shared_world.truth_logs(shared_world.project_names[0])
    assert all(HEX24.match(str(log["id"])) for log in logs)
    seconds = [int(str(log["id"])[:8], 16) for log in logs]
    assert seconds == sorted(seconds)
    assert seconds == [parse_iso_ns(str(log["date"])) // NS_PER_S for log in logs]
    keys = [(parse_iso_ns(str(log["date"])), str(log["id"])) for log in logs]
    assert keys == sorted(keys)
    shapes = Counter(
        (
            len(str(log["date"]).split(".")[1].rstrip("Z").split("+")[0]),
            str(log["date"]).endswith("Z"),
        )
        for log in logs
    )
    assert set(shapes) == {(6, True), (6, False), (9, True), (9, False)}


def test_logs_cover_the_traps(shared_world: World) -> None:
    """System/user, info/error, tracebacks, unicode, bursts on one timestamp, a quiet day."""
    logs = shared_world.truth_logs(shared_world.project_names[0])
    assert {(log["system"], log["level"]) for log in logs} >= {
        (True, "info"),
        (False, "info"),
        (False, "error"),
        (True, "error"),
    }
    assert any("\n" in str(log["log"]) and "Traceback" in str(log["log"]) for log in logs)
    assert any(not str(log["log"]).isascii() for log in logs)
    assert max(Counter(str(log["date"])[:26] for log in logs).values()) >= 100
    dates = _dates(logs, "date")
    gaps = [b - a for a, b in itertools.pairwise(dates)]
    assert max(gaps) > 24 * 3600 * NS_PER_S
    assert any("environment_build_id" in log for log in logs)


def test_logs_are_tied_to_existing_requests(shared_world: World) -> None:
    """Every request id a log mentions belongs to a request of the same project."""
    name = shared_world.project_names[0]
    request_ids = {r["id"] for r in shared_world.truth_requests(name)}
    mentioned = {log.get("deployment_request_id") for log in shared_world.truth_logs(name)}
    mentioned |= {log.get("pipeline_request_id") for log in shared_world.truth_logs(name)}
    mentioned.discard(None)
    assert mentioned
    assert mentioned <= request_ids


def test_request_logs_fall_inside_their_requests_lifetime(shared_world: World) -> None:
    """A log tied to a deployment request is dated between its start (or creation) and its
    completion, so request ids in logs never lie."""
    name = shared_world.project_names[0]
    requests = {r["id"]: r for r in shared_world.truth_requests(name)}
    ms = 1_000_000
    checked = 0
    for log in shared_world.truth_logs(name):
        request = requests.get(log.get("deployment_request_id"))
        if request is None or request["time_completed"] is None:
            continue
        begin = parse_iso_ns(request["time_started"] or request["time_created"])
        end = parse_iso_ns(request["time_completed"]) + ms
        assert begin <= parse_iso_ns(str(log["date"])) <= end, (log, request)
        checked += 1
    assert checked > 1_000


def test_request_lifecycles_are_consistent(shared_world: World) -> None:
    """Timestamps are ordered, `success` is null exactly until a request finishes, and some
    requests are still unfinished at now."""
    requests = shared_world.truth_requests(shared_world.project_names[0])
    statuses = Counter(r["status"] for r in requests)
    assert {"completed", "failed", "cancelled", "pending", "processing"} <= set(statuses)
    for r in requests:
        finished = r["status"] in ("completed", "failed", "cancelled")
        assert (r["success"] is None) != finished
        assert (r["time_completed"] is not None) == finished
        if finished:
            assert r["success"] == (r["status"] == "completed")
        times = [
            parse_iso_ns(r[k])
            for k in ("time_created", "time_started", "time_completed")
            if r[k] is not None
        ]
        assert times == sorted(times)
    assert {r["pipeline"] is None for r in requests} == {True, False}


def test_audit_history_is_newest_first_with_all_actions(shared_world: World) -> None:
    """Audit events span create/update/delete/info and come newest first."""
    events = shared_world.truth_audit_events(shared_world.project_names[0])
    assert {e["action"] for e in events} == {"create", "update", "delete", "info"}
    dates = _dates(events, "date")
    assert dates == sorted(dates, reverse=True)
