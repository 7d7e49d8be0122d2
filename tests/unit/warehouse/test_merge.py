"""The pure merge rules: one row per key per batch, and the SQL a commit merges with."""

import datetime as dt

from transform.schemas import LOGS, PROJECTS, REQUESTS
from warehouse import merge

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_dedupe_keeps_the_first_row_per_key(frame):
    """Append-only records: a repeat of a key inside one batch is dropped, order kept."""
    batch = frame(
        "logs", [{"id": "b", "log": "1"}, {"id": "a", "log": "2"}, {"id": "b", "log": "3"}]
    )
    out = merge.collapse_batch(LOGS, batch)
    assert out.get_column("id").to_list() == ["b", "a"]
    assert out.get_column("log").to_list() == ["1", "2"]


def test_a_batch_without_repeats_is_returned_as_it_is(frame):
    """Nothing to collapse: the batch itself comes back, not a copy."""
    batch = frame("logs", [{"id": "b"}, {"id": "a"}])
    assert merge.collapse_batch(LOGS, batch) is batch
    assert merge.collapse_batch(REQUESTS, frame("requests", [{"id": "r"}])).height == 1


def test_upsert_keeps_the_newest_extraction_and_the_later_of_ties(frame):
    """Mutable records: the newest `_extracted_at` wins; at the same instant the later row."""
    later = T0 + dt.timedelta(hours=1)
    batch = frame(
        "requests",
        [
            {"id": "r", "status": "completed", "_extracted_at": later},
            {"id": "r", "status": "pending", "_extracted_at": T0},
            {"id": "s", "status": "pending"},
            {"id": "s", "status": "processing"},
        ],
    )
    out = merge.collapse_batch(REQUESTS, batch).sort("id")
    assert out.get_column("status").cast(str).to_list() == ["completed", "processing"]


def test_match_predicate_names_key_and_only_the_touched_partitions():
    """The ON clause joins on partition and key columns and prunes to the batch's partitions."""
    sql = merge.match_predicate(
        LOGS,
        [("p1", dt.date(2026, 1, 2)), ("p1", dt.date(2026, 1, 3)), ("p1", dt.date(2026, 1, 2))],
    )
    assert 't."id" = s."id"' in sql
    assert 't."project" = s."project"' in sql
    assert "t.\"day\" IN ('2026-01-02', '2026-01-03')" in sql
    assert "t.\"project\" IN ('p1')" in sql


def test_supersedes_predicate_compares_every_value_column_null_safely():
    """A tie replaces the stored row only if some value differs, nulls included."""
    sql = merge.supersedes_predicate(REQUESTS)
    assert '(s."_extracted_at" > t."_extracted_at")' in sql
    assert '(s."status" IS DISTINCT FROM t."status")' in sql
    assert '"id" IS DISTINCT' not in sql  # the key is what matched
    assert '"day" IS DISTINCT' not in sql


def test_literals_are_quoted():
    """A quote in a partition value cannot end the SQL literal."""
    assert merge.sql_literal("o'brien") == "'o''brien'"
    assert merge.replace_predicate(["b", "a"]) == "project IN ('a', 'b')"
    assert PROJECTS.merge == "replace"
