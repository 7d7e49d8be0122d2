"""Snapshot tables from the API's own response shapes (API.md examples)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from polars.testing import assert_frame_equal

PROJECT_DETAIL = {
    "id": "e988ddc0-3ef1-42d2-ab30-9f810a5e7063",
    "name": "project-1",
    "creation_date": "2018-10-26",
    "advanced_permissions": False,
    "organization_name": "organization-1",
    "credits": 10000,
    "suspended": False,
    "suspended_reason": None,
    "cors_origins": [],
}


def test_project_detail_becomes_one_row(run, rows, rejects):
    """A date-only creation date is midnight UTC; the name is the project column, not extra."""
    other = PROJECT_DETAIL | {"creation_date": "2021-01-02T03:04:05.6+00:00", "credits": None}
    other |= {"cors_origins": ["https://a.example"], "suspended": True, "suspended_reason": "x"}
    result = run("projects", [PROJECT_DETAIL, other])
    base = {
        "id": PROJECT_DETAIL["id"],
        "creation_date": datetime(2018, 10, 26, tzinfo=UTC),
        "advanced_permissions": False,
        "organization_name": "organization-1",
        "credits": 10000.0,
        "suspended": False,
        "cors_origins": [],
    }
    second = base | {
        "creation_date": datetime(2021, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
        "credits": None,
        "suspended": True,
        "suspended_reason": "x",
        "cors_origins": ["https://a.example"],
    }
    assert_frame_equal(result.rows, rows("projects", [base, second]))
    assert_frame_equal(result.rejects, rejects("projects", []))


def test_cors_origins_must_be_a_list_of_strings(run, rejects):
    """A list holding a non-string is a reject naming the field."""
    bad = PROJECT_DETAIL | {"cors_origins": ["ok", 3]}
    result = run("projects", [bad])
    assert_frame_equal(
        result.rejects,
        rejects("projects", [(bad, "cors_origins: expected array of strings, got array")]),
    )


def test_users_list(run, rows):
    """Each user of the list is a row."""
    users = [
        {"id": "u1", "email": "a@example.com", "name": "user", "surname": "one"},
        {"id": "u2", "email": "b@example.com", "name": "user", "surname": "two"},
    ]
    assert_frame_equal(run("project_users", users).rows, rows("project_users", users))


def test_secret_values_are_never_stored(run, rows, rejects):
    """A secret variable's value is null in rows and in rejects even when the server sent it."""
    variables = [
        {"id": "v1", "name": "database_schema", "value": "public", "secret": False},
        {"id": "v2", "name": "database_password", "value": "hunter2", "secret": True},
        {"name": "orphan", "value": "hunter3", "secret": True},
        {"id": "v4", "name": "unsure", "value": "hunter4", "secret": "yes"},
    ]
    result = run("environment_variables", variables)
    expected = [
        {"id": "v1", "name": "database_schema", "value": "public", "secret": False},
        {"id": "v2", "name": "database_password", "value": None, "secret": True},
    ]
    assert_frame_equal(result.rows, rows("environment_variables", expected))
    # Records of the wrong JSON type are refused before those with untypeable values.
    redacted = [
        (
            {"id": "v4", "name": "unsure", "value": None, "secret": "yes"},
            "secret: expected boolean, got string",
        ),
        ({"name": "orphan", "value": None, "secret": True}, "id: missing"),
    ]
    assert_frame_equal(result.rejects, rejects("environment_variables", redacted))
    assert "hunter" not in repr(result) + result.rejects["raw"].str.join("").item()


def test_instance_types_numbers(run, rows, rejects):
    """Integer and float columns are typed; a float where an integer belongs is a reject."""
    good = {
        "id": "i1",
        "name": "512mb",
        "display_name": "512 MB",
        "memory_allocation": 512,
        "cpu_allocation": 0.125,
        "gpu_allocation": 0,
        "storage_allocation": 2048,
        "credit_rate": 1,
    }
    bad = good | {"id": "i2", "memory_allocation": 512.5}
    result = run("instance_types", [good, bad])
    assert_frame_equal(result.rows, rows("instance_types", [good | {"credit_rate": 1.0}]))
    reason = "memory_allocation: expected integer, got number"
    assert_frame_equal(result.rejects, rejects("instance_types", [(bad, reason)]))


def test_quotas_keep_big_integers_and_refuse_overflow(run, rows, rejects):
    """A 64-bit quota is kept exactly; one beyond 64 bits is a reject, not a crash."""
    quotas = [
        {"resource": "memory_standard", "quota": 274877906944},
        {"resource": "x", "quota": 2**70},
    ]
    result = run("quotas", quotas)
    assert_frame_equal(result.rows, rows("quotas", quotas[:1]))
    assert_frame_equal(
        result.rejects, rejects("quotas", [(quotas[1], "quota: integer out of range")])
    )


def test_resource_counts_object_is_one_row(run, rows):
    """The resource counts object becomes one row of the project."""
    counts = {
        "deployments": 30,
        "deployment_versions": 47,
        "pipelines": 2,
        "pipeline_versions": 4,
        "buckets": 2,
        "environments": 2,
    }
    assert_frame_equal(run("resource_counts", [counts]).rows, rows("resource_counts", [counts]))


def _usage(deleted_key: str = "data_deleted_deployments"):
    return {
        "interval": "day",
        "data_project": [
            {
                "start_date": "2019-08-01T00:00:00Z",
                "end_date": "2019-08-02T00:00:00Z",
                "value": 500,
            },
        ],
        "data_deployments": [
            {
                "deployment_id": "d-uuid",
                "deployment_name": "deployment-1",
                "data": [
                    {
                        "start_date": "2019-08-01T00:00:00Z",
                        "end_date": "2019-08-02T00:00:00Z",
                        "value": 300,
                    },
                    {
                        "start_date": "2019-08-02T00:00:00Z",
                        "end_date": "2019-08-03T00:00:00Z",
                        "value": 0.5,
                    },
                ],
            }
        ],
        deleted_key: [
            {
                "start_date": "2019-08-01T00:00:00Z",
                "end_date": "2019-08-02T00:00:00Z",
                "value": 200,
            },
        ],
    }


@pytest.mark.parametrize("deleted_key", ["data_deleted_deployments", "data_deployments_deleted"])
def test_credit_usage_flattens_to_one_row_per_scope_and_interval(run, rows, deleted_key):
    """Project, per-deployment and deleted-deployment usage become rows with their scope."""
    day1, day2, day3 = (datetime(2019, 8, d, tzinfo=UTC) for d in (1, 2, 3))
    dep = {"scope": "deployment", "deployment_id": "d-uuid", "deployment_name": "deployment-1"}
    expected = [
        {"scope": "project", "start_date": day1, "end_date": day2, "value": 500.0},
        dep | {"start_date": day1, "end_date": day2, "value": 300.0},
        dep | {"start_date": day2, "end_date": day3, "value": 0.5},
        {"scope": "deleted_deployments", "start_date": day1, "end_date": day2, "value": 200.0},
    ]
    result = run("credit_usage", [_usage(deleted_key)])
    assert_frame_equal(result.rows, rows("credit_usage", expected))


def test_credit_usage_of_the_wrong_shape_is_rejected(run, rejects):
    """A usage response whose lists are not lists is one reject, never a crash."""
    bad = {"interval": "day", "data_project": {"value": 1}}
    result = run("credit_usage", [bad, "nonsense"])
    assert result.rows.height == 0
    expected = [
        (bad, "data_project: expected array, got object"),
        ("nonsense", "not a JSON object (got string)"),
    ]
    assert_frame_equal(result.rejects, rejects("credit_usage", expected))


def test_credit_usage_envelope_fields_ride_along_in_extra(run):
    """A field the API adds to a deployment entry is kept in the `_extra` of its rows."""
    usage = _usage()
    usage["data_deployments"][0]["deployment_version"] = "v1"
    result = run("credit_usage", [usage])
    extras = [json.loads(x) if x else None for x in result.rows["_extra"]]
    assert extras == [None, {"deployment_version": "v1"}, {"deployment_version": "v1"}, None]
