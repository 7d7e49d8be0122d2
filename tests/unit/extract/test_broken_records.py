"""Broken records (no id, no or garbled date) are delivered once and never lose valid ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from extract import (
    AuditCursor,
    AuditPaginator,
    LogCursor,
    LogPaginator,
    PagingStalled,
    RequestCursor,
    RequestPaginator,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def log(n: int, **override: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": f"{n:024x}",
        "date": (T0 + timedelta(seconds=n)).isoformat(),
        "log": "x",
    }
    record.update(override)
    return record


def test_broken_log_carries_the_cursor_by_id_with_the_last_valid_date():
    """A log without a date is delivered; it carries the cursor by its id, while the range
    still starts from the last valid date (a lower bound of its own)."""
    paginator = LogPaginator("p", LogCursor(T0, T0 + timedelta(days=1)), limit=3)
    body = [log(1), log(2), {k: v for k, v in log(3).items() if k != "date"}]
    state, fresh = paginator.advance(body)
    assert fresh == body
    assert state.cursor.last_id == f"{3:024x}"
    assert state.cursor.last_date == T0 + timedelta(seconds=2)
    assert state.request().body["date_range"] == 86_400 - 2
    again, fresh_again = state.advance([body[2], log(4)])
    assert fresh_again == [log(4)]
    assert again.cursor.last_id == f"{4:024x}"


def test_full_page_without_any_id_raises_instead_of_losing_logs():
    """A full page whose logs all lack ids cannot be paged past: it raises, not skips."""
    paginator = LogPaginator("p", LogCursor(T0, T0 + timedelta(days=1)), limit=2)
    nameless = [{k: v for k, v in log(n).items() if k != "id"} for n in (1, 2)]
    with pytest.raises(PagingStalled):
        paginator.advance(nameless)


def test_garbled_request_time_is_delivered_once_and_paging_moves_on():
    """A request with a garbled time_created comes once; a page of nothing new shifts offset."""
    cursor = RequestCursor("deployment", T0, T0 + timedelta(days=1))
    paginator = RequestPaginator("p", cursor, limit=2)
    good = {"id": "a", "time_created": T0.isoformat()}
    bad = {"id": "b", "time_created": "31/02/2026 25:61"}
    state, fresh = paginator.advance([good, bad])
    assert fresh == [good, bad]
    repeat, fresh_again = state.advance([good, bad])
    assert fresh_again == []
    assert repeat.request().params["offset"] > state.request().params["offset"]


def test_broken_audit_event_does_not_move_the_boundary():
    """An audit event without an id is delivered, but the new boundary uses valid ones only."""
    good = {"id": "e1", "date": T0.isoformat()}
    broken = {"date": (T0 + timedelta(seconds=5)).isoformat(), "action": 42}
    state, fresh = AuditPaginator("p", limit=5).advance([broken, good])
    assert fresh == [broken, good]
    done, _ = state.advance([])
    assert done.cursor == AuditCursor(T0, ("e1",))


def test_an_item_that_is_not_an_object_is_delivered_once_as_a_broken_log():
    """A page item that is not a JSON object neither moves the cursor nor stops paging; it
    is delivered once (the transform rejects it) and not again when the page repeats."""
    paginator = LogPaginator("p", LogCursor(T0, T0 + timedelta(days=1)), limit=5)
    state, fresh = paginator.advance([log(1), None, 7, log(2)])
    assert fresh == [log(1), None, 7, log(2)]
    assert state.cursor.last_id == f"{2:024x}"
    again, fresh_again = state.advance([log(2), None, 7, log(3)])
    assert fresh_again == [log(3)]
    assert again.cursor.last_id == f"{3:024x}"
