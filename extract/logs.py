"""Logs: the cursor, the window plan and the pure paginator over `POST /projects/{p}/logs`.

The API pages with the `id` of the last log and a positive `date_range` (at most 24 h),
returns the cursor log again on every page, and a page shorter than `limit` only says the
current window is exhausted. So a range is cut into windows of at most 24 h, each paged on
its own (possibly concurrently) and checkpointed by its own `LogCursor`.

Windows are half-open `[start, end)`: a log belongs to exactly one window, whatever the
server does at the edges, because records outside the window are dropped here.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from extract.client import ApiRequest
from extract.config import DOCUMENTED_LOG_LIMIT_MAX
from extract.errors import ApiError, BadRequest, NotFound, PagingStalled
from extract.log_columns import LogColumns, as_datetime, as_micros
from extract.log_lines import boundary_digest, parse_ns, source_of
from extract.paging import Record, fingerprint, record_date, record_id
from extract.timeutil import as_utc, ceil_seconds, format_api_datetime, parse_api_datetime

MAX_WINDOW = timedelta(seconds=86_400)
# GET /logs takes any [start, end): longer windows mean fewer short last pages (a 1M-log
# month is ~205 calls of 5,000 lines instead of ~230), while still paging weeks in parallel.
CURRENT_MAX_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class LogCursor:
    """Progress through one window, on either log endpoint, and whether it is done.

    Legacy endpoint: the last log delivered (`last_id`, `last_date`). Current endpoint: the
    nanosecond timestamp of the last line taken (`last_ns`). Both: `taken`, the boundary
    digests (`extract.log_lines`) of the lines taken at the last timestamp, so paging can
    resume there on the current endpoint without a loss or a repeat.
    """

    window_start: datetime
    window_end: datetime
    last_id: str | None = None
    last_date: datetime | None = None
    done: bool = False
    last_ns: int | None = None
    taken: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "window_start": format_api_datetime(self.window_start),
            "window_end": format_api_datetime(self.window_end),
            "last_id": self.last_id,
            "last_date": format_api_datetime(self.last_date) if self.last_date else None,
            "done": self.done,
            "last_ns": self.last_ns,
            "taken": list(self.taken),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogCursor:
        last_date = data.get("last_date")
        return cls(
            window_start=parse_api_datetime(data["window_start"]),
            window_end=parse_api_datetime(data["window_end"]),
            last_id=data.get("last_id"),
            last_date=parse_api_datetime(last_date) if last_date else None,
            done=bool(data.get("done", False)),
            last_ns=data.get("last_ns"),
            taken=tuple(data.get("taken", ())),
        )


def plan_log_windows(
    since: datetime,
    until: datetime,
    resume: Iterable[LogCursor] = (),
    max_window: timedelta = MAX_WINDOW,
) -> list[LogCursor]:
    """Cursors covering `[since, until)`: resumed windows as they were, the rest cut fresh.

    Fresh windows are at most `max_window` long; finished resumed windows are left out.
    """
    since, until = as_utc(since), as_utc(until)
    if not timedelta(0) < max_window <= CURRENT_MAX_WINDOW:
        raise ValueError("a log window must be positive and at most 7 days (24 h on the POST)")
    resumed = sorted(
        (c for c in resume if c.window_end > since and c.window_start < until),
        key=lambda c: c.window_start,
    )
    plan: list[LogCursor] = []
    position = since
    for cursor in resumed:
        plan.extend(_cut(position, cursor.window_start, max_window))
        if not cursor.done:
            plan.append(cursor)
        position = max(position, cursor.window_end)
    plan.extend(_cut(position, until, max_window))
    return plan


def _cut(start: datetime, end: datetime, size: timedelta) -> list[LogCursor]:
    windows = []
    while start < end:
        windows.append(LogCursor(start, min(start + size, end)))
        start += size
    return windows


@dataclass(frozen=True)
class LogPaginator:
    """Pages one window. `limit_trusted`: the server honours `limit`, so a short page ends it.

    Until a full page has shown that, a short page is confirmed by one more request (a
    server that silently clamps `limit` would otherwise end a window early and lose logs).
    A short page followed by more logs shows the clamp: `limit` becomes what it sent.
    """

    project: str
    cursor: LogCursor
    limit: int = 500
    limit_trusted: bool = False
    cursor_lost: bool = False
    # Fingerprints of broken records (no usable id or date) delivered in this window.
    broken_seen: frozenset[str] = frozenset()
    last_page: tuple[int, int] | None = None  # (limit asked, records returned)

    def request(self) -> ApiRequest | None:
        cursor = self.cursor
        if cursor.done:
            return None
        body: dict[str, Any] = {"filters": {}, "limit": self.limit}
        # `last_date` is the date of the last valid log: the cursor log's own date, or a
        # lower bound of it when the cursor log came with a broken date. Either way a range
        # computed from it reaches past the window's end.
        start = cursor.last_date or cursor.window_start
        if cursor.last_id is None or self.cursor_lost:
            body["date"] = format_api_datetime(start)
        else:
            body["id"] = cursor.last_id
        body["date_range"] = ceil_seconds(start, cursor.window_end)
        return ApiRequest("POST", f"/projects/{self.project}/logs", body=body)

    def advance(self, body: Sequence[Record]) -> tuple[LogPaginator, Sequence[Record]]:
        """The next state and the new records of `body`: a page decoded into `LogColumns`
        (read with column operations) or a list of records as `json` decoded them."""
        cursor = self.cursor
        if cursor.last_id is not None and not self.cursor_lost and not body:
            # Not even the cursor log came back: it is gone (retention). Restart from its date.
            return replace(self, cursor_lost=True), []
        fresh: Sequence[Record]
        if isinstance(body, LogColumns):
            fresh, position, past_window = self._new_rows(body)
            broken: frozenset[str] = frozenset()
        else:
            fresh, position, past_window, broken = self._new_records(body)
        limit, trusted = self.limit, self.limit_trusted
        if fresh and self.last_page is not None and not trusted:
            asked, got = self.last_page
            # Only a plausible cap (the documented 500 or more): logs added while paging
            # also make a short page followed by more.
            if DOCUMENTED_LOG_LIMIT_MAX <= got < asked:
                # A short page was followed by more logs: the server caps `limit` there.
                limit, trusted = got, True
        full = len(body) >= limit
        trusted = trusted or full
        if position is None and full and not past_window:
            raise PagingStalled(
                f"a full page of logs without usable ids from /projects/{self.project}/logs; "
                "cannot page past it"
            )
        done = past_window or position is None or (not full and trusted)
        if position is not None:
            last_id, last_date = position
            last_date = last_date or cursor.last_date
            before = cursor.taken if last_date == cursor.last_date else ()
            if isinstance(fresh, LogColumns) and last_date is not None:
                taken = before + fresh.boundary_digests(as_micros(last_date))
            else:
                taken = _taken_at(fresh, last_date, before)
            cursor = replace(cursor, last_id=last_id, last_date=last_date, taken=taken)
        next_state = replace(
            self,
            cursor=replace(cursor, done=done),
            limit=limit,
            limit_trusted=trusted,
            cursor_lost=False,
            broken_seen=self.broken_seen | broken,
            last_page=(self.limit, len(body)),
        )
        return next_state, fresh

    def recover(self, error: ApiError) -> LogPaginator | None:
        """A 404 for the cursor log (it expired): go on from its date. A 400 to a limit above
        the documented 500: ask for 500. Anything else is raised."""
        if isinstance(error, BadRequest) and self.limit > DOCUMENTED_LOG_LIMIT_MAX:
            return replace(self, limit=DOCUMENTED_LOG_LIMIT_MAX, limit_trusted=False)
        if not isinstance(error, NotFound) or self.cursor.last_id is None or self.cursor_lost:
            return None
        return replace(self, cursor_lost=True)

    def _new_rows(
        self, page: LogColumns
    ) -> tuple[LogColumns, tuple[str, datetime | None] | None, bool]:
        """`_new_records` of a page of columns, whose logs all have an id and a date."""
        cursor = self.cursor
        micros = page.micros
        beyond = micros >= as_micros(cursor.window_end)
        skipped = beyond | (micros < as_micros(cursor.window_start))
        if cursor.last_id is not None:
            skipped = skipped | (page.frame["id"] == cursor.last_id)
        fresh = (~skipped).arg_true().to_list()
        past = beyond.arg_true()
        # The cursor moves to the last new log that comes before any log past the window.
        carriers = bisect_left(fresh, past[0]) if past.len() else len(fresh)
        position = None
        if carriers:
            last = fresh[carriers - 1]
            position = (str(page.frame["id"][last]), as_datetime(page.micros[last]))
        return page.rows(fresh), position, bool(past.len())

    def _new_records(
        self, body: Sequence[Record]
    ) -> tuple[list[Record], tuple[str, datetime | None] | None, bool, frozenset[str]]:
        """New records in the window (not the repeated cursor log); the next cursor position
        (the last id, with the last valid date seen or None); whether the server went past the
        window's end (it sorts oldest first); fingerprints of broken records delivered."""
        cursor = self.cursor
        fresh: list[Record] = []
        position: tuple[str, datetime | None] | None = None
        latest_date: datetime | None = None
        past_window = False
        broken: set[str] = set()
        for record in body:
            log_id, date = record_id(record), record_date(record, "date")
            if date is not None and date >= cursor.window_end:
                past_window = True
                continue
            repeated = log_id is not None and log_id == cursor.last_id
            if repeated or (date is not None and date < cursor.window_start):
                continue
            if log_id is None or date is None:
                key = fingerprint(record)
                if past_window or key in self.broken_seen or key in broken:
                    continue
                broken.add(key)
            else:
                latest_date = date
            fresh.append(record)
            if log_id is not None and not past_window:
                # A log with an id but a broken date can still carry the cursor by its id.
                position = (log_id, latest_date)
        return fresh, position, past_window, frozenset(broken)


def _taken_at(
    fresh: Sequence[Record], last_date: datetime | None, before: tuple[str, ...]
) -> tuple[str, ...]:
    """Boundary digests of the lines at `last_date` (the newest are last in `fresh`)."""
    if last_date is None:
        return ()
    at_last: list[str] = []
    for record in reversed(fresh):
        if record_date(record, "date") != last_date:
            break
        try:
            ts_ns = parse_ns(record["date"])
        except ValueError:  # a date the lenient parser read but this one cannot: stop here
            break
        at_last.append(boundary_digest(ts_ns, record.get("log"), source_of(record)))
    return before + tuple(reversed(at_last))
