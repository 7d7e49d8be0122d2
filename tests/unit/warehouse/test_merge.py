"""The pure merge rules keep one row per key: first seen for dedupe, newest for upsert."""

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from transform.schemas import AUDIT_EVENTS, EXTRACTED_AT, REQUESTS
from warehouse import merge

H = dt.timedelta(hours=1)


def _versions(rows):
    return pl.DataFrame(
        rows,
        schema={"id": pl.String(), "status": pl.String(), EXTRACTED_AT: pl.Datetime("us", "UTC")},
        orient="row",
    )


T = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_dedupe_keeps_first_row_per_key(frame):
    """Repeated append-only records collapse to the first occurrence, order kept."""
    batch = frame(
        "audit_events", [{"id": "a", "event": "1"}, {"id": "b"}, {"id": "a", "event": "2"}]
    )
    out = merge.collapse_batch(AUDIT_EVENTS, batch)
    assert out["id"].to_list() == ["a", "b"]
    assert out.filter(pl.col("id") == "a")["event"].item() == "1"


def test_upsert_keeps_newest_extraction_per_key():
    """Among versions of a key the newest _extracted_at wins, wherever it sits in the batch."""
    batch = _versions(
        [("r", "completed", T + 2 * H), ("r", "pending", T), ("r", "processing", T + H)]
    )
    assert merge.latest_per_key(batch, ["id"])["status"].to_list() == ["completed"]


def test_upsert_tie_goes_to_later_row():
    """Two versions extracted at the same instant: the later row in the batch wins."""
    batch = _versions([("r", "pending", T), ("r", "processing", T)])
    assert merge.latest_per_key(batch, ["id"])["status"].to_list() == ["processing"]


def test_unseen_rows_drops_stored_keys():
    """Only rows whose key the partition does not hold are new."""
    batch = _versions([("a", "x", T), ("b", "x", T), ("c", "x", T)])
    stored = pl.DataFrame({"id": ["b", "z"]})
    assert merge.unseen_rows(batch, stored, ["id"])["id"].to_list() == ["a", "c"]


def test_plan_upsert_splits_fresh_newer_and_stale():
    """New keys are fresh, strictly newer versions are updates, older or equal ones vanish."""
    batch = _versions([("new", "pending", T), ("upd", "completed", T + H), ("old", "pending", T)])
    stored = _versions([("upd", "pending", T), ("old", "completed", T + H)]).select(
        "id", EXTRACTED_AT
    )
    plan = merge.plan_upsert(batch, stored, ["id"])
    assert plan.fresh["id"].to_list() == ["new"]
    assert plan.newer["id"].to_list() == ["upd"]


def test_equal_timestamp_identical_row_is_no_update():
    """Re-writing an identical batch is not an update (idempotent, no rewrite)."""
    batch = _versions([("r", "pending", T)])
    plan = merge.plan_upsert(batch, batch.select("id", EXTRACTED_AT), ["id"])
    plan = merge.changed_ties(plan, batch, ["id"])
    assert plan.fresh.height == 0
    assert plan.newer.height == 0


def test_equal_timestamp_changed_row_is_an_update():
    """A record seen twice in one run (same _extracted_at) with a new status: later wins."""
    stored = _versions([("r", "pending", T), ("s", "pending", T)])
    batch = _versions([("r", "completed", T), ("s", "pending", T)])
    plan = merge.plan_upsert(batch, stored.select("id", EXTRACTED_AT), ["id"])
    assert plan.tied["id"].to_list() == ["r", "s"]
    plan = merge.changed_ties(plan, stored, ["id"])
    assert plan.newer["status"].to_list() == ["completed"]


def test_rewrite_partition_replaces_updated_rows():
    """The rewritten partition holds untouched stored rows, updates and fresh rows once each."""
    stored = _versions([("a", "pending", T), ("b", "pending", T)])
    batch = _versions([("b", "completed", T + H), ("c", "pending", T)])
    plan = merge.plan_upsert(batch, stored.select("id", EXTRACTED_AT), ["id"])
    out = merge.rewrite_partition(stored, plan, ["id"]).sort("id")
    expected = _versions([("a", "pending", T), ("b", "completed", T + H), ("c", "pending", T)])
    assert_frame_equal(out, expected)


def test_collapse_batch_upserts_requests(frame):
    """The requests table collapses by newest extraction, per its declared merge policy."""
    batch = frame(
        "requests",
        [
            {"id": "r", "status": "completed", "finished": True, EXTRACTED_AT: T + H},
            {"id": "r", EXTRACTED_AT: T},
        ],
    )
    out = merge.collapse_batch(REQUESTS, batch)
    assert out["status"].cast(pl.String).to_list() == ["completed"]
