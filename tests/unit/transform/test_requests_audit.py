"""Normalisation rules of the requests and audit_events tables."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from polars.testing import assert_frame_equal

CREATED = "2020-03-28T20:00:26.613+00:00"
STARTED = "2020-03-28T20:00:41.276+00:00"
COMPLETED = "2020-03-28T20:00:42.241+00:00"


def _request(rid: str, status: str, **fields):
    record = {
        "id": rid,
        "deployment": "deployment-1",
        "pipeline": None,
        "version": "v1",
        "status": status,
        "success": None,
        "time_created": CREATED,
        "time_started": None,
        "time_completed": None,
    }
    return record | fields


def _request_row(rid: str, status: str, **fields):
    row = {
        "day": date(2020, 3, 28),
        "id": rid,
        "object_type": "deployment",
        "deployment": "deployment-1",
        "version": "v1",
        "status": status,
        "time_created": datetime(2020, 3, 28, 20, 0, 26, 613000, tzinfo=UTC),
        "finished": False,
    }
    return row | fields


def test_requests_get_object_type_and_derived_columns(run, rows, rejects):
    """Queue and run seconds come from the three times; finished follows the status."""
    page = [
        _request("r1", "pending"),
        _request("r2", "processing", time_started=STARTED),
        _request("r3", "completed", success=True, time_started=STARTED, time_completed=COMPLETED),
        _request("r4", "cancelled_pending"),
        _request("r5", "failed", success=False, time_started=STARTED, time_completed=COMPLETED),
    ]
    started = datetime(2020, 3, 28, 20, 0, 41, 276000, tzinfo=UTC)
    completed = datetime(2020, 3, 28, 20, 0, 42, 241000, tzinfo=UTC)
    timed = {"time_started": started, "time_completed": completed, "seconds_running": 0.965}
    expected = [
        _request_row("r1", "pending"),
        _request_row("r2", "processing", time_started=started, seconds_queued=14.663),
        _request_row("r3", "completed", success=True, seconds_queued=14.663, finished=True) | timed,
        _request_row("r4", "cancelled_pending"),
        _request_row("r5", "failed", success=False, seconds_queued=14.663, finished=True) | timed,
    ]
    result = run("requests", page, object_type="deployment")
    assert_frame_equal(result.rows, rows("requests", expected))
    assert_frame_equal(result.rejects, rejects("requests", []))


def test_pipeline_requests_are_stamped_pipeline(run):
    """The object type passed in is the object_type of every row."""
    page = [_request("r1", "pending", deployment=None, pipeline="pipeline-1")]
    result = run("requests", page, object_type="pipeline")
    assert result.rows["object_type"].cast(str).to_list() == ["pipeline"]


@pytest.mark.parametrize("object_type", [None, "webhook"])
def test_requests_need_a_valid_object_type(run, object_type):
    """Requests without a known object type are a caller error, raised before any work."""
    with pytest.raises(ValueError, match="object_type"):
        run("requests", [_request("r1", "pending")], object_type=object_type)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "paused"}, "status: unknown value 'paused'"),
        ({"status": None}, "status: missing"),
        ({"time_created": None}, "time_created: missing"),
        ({"time_started": "soon"}, "time_started: unparseable timestamp 'soon'"),
        ({"success": "yes"}, "success: expected boolean, got string"),
        ({"id": None}, "id: missing"),
    ],
)
def test_untypeable_request_is_rejected(run, rows, rejects, change, reason):
    """A request that cannot be typed is a reject with its reason; the others are rows."""
    bad = _request("r2", "pending") | change
    result = run("requests", [_request("r1", "pending"), bad], object_type="deployment")
    assert_frame_equal(result.rows, rows("requests", [_request_row("r1", "pending")]))
    assert_frame_equal(result.rejects, rejects("requests", [(bad, reason)]))


def _audit(aid: str, action: str = "create", **fields):
    record = {
        "id": aid,
        "date": "2020-05-23T11:53:02.873+00:00",
        "action": action,
        "user": "user@example.com",
        "event": "Created project test-project",
        "object_type": "project",
        "object_name": "test-project",
    }
    return record | fields


def test_audit_events_are_typed(run, rows, rejects):
    """Audit events keep their fields, with the date as UTC and the action as an enum."""
    result = run("audit_events", [_audit("a1"), _audit("a2", "info", object_name="")])
    common = {
        "day": date(2020, 5, 23),
        "date": datetime(2020, 5, 23, 11, 53, 2, 873000, tzinfo=UTC),
        "user": "user@example.com",
        "event": "Created project test-project",
        "object_type": "project",
    }
    expected = [
        common | {"id": "a1", "action": "create", "object_name": "test-project"},
        common | {"id": "a2", "action": "info", "object_name": ""},
    ]
    assert_frame_equal(result.rows, rows("audit_events", expected))
    assert_frame_equal(result.rejects, rejects("audit_events", []))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"action": "destroy"}, "action: unknown value 'destroy'"),
        ({"action": None}, "action: missing"),
        ({"date": "2020-05-23"}, None),
        ({"user": 12}, "user: expected string, got number"),
    ],
)
def test_audit_reject_reasons(run, rejects, change, reason):
    """An audit event that cannot be typed is a reject; a date-only date is still a date."""
    record = _audit("a1") | change
    result = run("audit_events", [record])
    expected = [] if reason is None else [(record, reason)]
    assert_frame_equal(result.rejects, rejects("audit_events", expected))
    assert result.rows.height == 1 - len(expected)
