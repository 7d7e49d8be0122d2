"""The pure paginator over the current log endpoint, `GET /projects/{p}/logs`.

A window `[start, end)` is read oldest first (`start` < `end`; the reverse order is refused).
There are no ids, so the cursor is the last nanosecond timestamp taken plus the lines taken
at it (by boundary digest, `extract.log_lines`): `start` is inclusive, so the next page
begins at that nanosecond and skips exactly those lines, however many share it. A cursor
left by the legacy endpoint (a microsecond date and the lines taken at it) resumes the same
way, so a window begun on one endpoint ends on the other without a loss or a repeat.

A page shorter than `limit` ends the window once the server has shown it honours `limit`
(a full page); until then one more page confirms it. A server that clamps `limit` is noticed
(a short page followed by more lines) and asked for what it sends from then on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from extract.client import ApiRequest
from extract.config import DOCUMENTED_LOG_LIMIT_MAX, LOG_LIMIT_CEILING
from extract.errors import ApiError, BadRequest, PagingStalled, UnexpectedResponse
from extract.line_columns import LineColumns, LinePage
from extract.log_lines import (
    NS_PER_US,
    Record,
    as_record,
    boundary_digest,
    datetime_to_ns,
    format_ns,
    item_timestamp,
    source_of,
)
from extract.logs import LogCursor
from extract.paging import fingerprint


@dataclass(frozen=True)
class CurrentLogPaginator:
    """Pages one window of `GET /logs`; `clamped_to` is a limit the server was seen to cap."""

    project: str
    cursor: LogCursor
    limit: int = LOG_LIMIT_CEILING
    limit_trusted: bool = False
    last_page: tuple[int, int] | None = None  # (limit asked, lines returned)
    clamped_to: int | None = None
    broken_seen: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.cursor.window_start >= self.cursor.window_end:
            raise ValueError("a log window must run forward in time (start < end)")

    def request(self) -> ApiRequest | None:
        if self.cursor.done:
            return None
        params: dict[str, str | int] = {
            "start": format_ns(self._start_ns()),
            "end": format_ns(datetime_to_ns(self.cursor.window_end)),
            "limit": self.limit,
        }
        return ApiRequest("GET", f"/projects/{self.project}/logs", params=params)

    def _start_ns(self) -> int:
        cursor = self.cursor
        if cursor.last_ns is not None:
            return cursor.last_ns
        return datetime_to_ns(cursor.last_date or cursor.window_start)

    def recover(self, error: ApiError) -> CurrentLogPaginator | None:
        """A 400 to a limit above the documented 500: ask for 500 from now on."""
        if isinstance(error, BadRequest) and self.limit > DOCUMENTED_LOG_LIMIT_MAX:
            return replace(self, limit=DOCUMENTED_LOG_LIMIT_MAX, limit_trusted=False)
        return None

    def advance(self, body: Sequence[Record]) -> tuple[CurrentLogPaginator, Sequence[Record]]:
        """The next state and the new lines of `body`: a page decoded into structs
        (`LinePage`, whose new lines come back as `LineColumns`) or a list of items as
        `json` decoded them (new lines as records, broken items kept as they came)."""
        cursor = self.cursor
        start_ns = datetime_to_ns(cursor.window_start)
        end_ns = datetime_to_ns(cursor.window_end)
        skip = Counter(cursor.taken)
        boundary_ns = cursor.last_ns
        boundary_us = None if cursor.last_date is None else datetime_to_ns(cursor.last_date)
        last_ns = boundary_ns
        lines = _Lines(self.project, body)
        # Boundary digests of the lines taken at `last_ns`. A line alone at its nanosecond
        # (the common case) needs none unless it ends the page: the first line of a run is
        # digested only once a second line shares its nanosecond.
        run: list[str | None] = list(cursor.taken) if boundary_ns is not None else []
        counts: Counter[str] = Counter(cursor.taken) if boundary_ns is not None else Counter()
        first: int | None = None
        broken: set[str] = set()
        previous, past_window = -1, False
        for index in range(len(body)):
            ts = lines.timestamp(index)
            if ts is None:
                key = fingerprint(lines.raw(index))
                if key not in self.broken_seen and key not in broken:
                    broken.add(key)
                    lines.take_broken(index)
                continue
            if ts < previous:
                raise UnexpectedResponse(
                    f"/projects/{self.project}/logs sent lines newest first; "
                    "windows are read oldest first"
                )
            previous = ts
            if ts >= end_ns:
                past_window = True
                break
            if ts < start_ns:
                continue
            at_boundary = (
                ts == boundary_ns
                if boundary_ns is not None
                else (boundary_us is not None and ts // NS_PER_US == boundary_us // NS_PER_US)
            )
            digest = lines.digest(index, ts) if at_boundary or ts == last_ns else None
            if digest is not None and at_boundary and skip[digest] > 0:
                skip[digest] -= 1
                continue
            if ts != last_ns:
                last_ns, run, counts, first = ts, [], Counter(), index
                occurrence = 0
            else:
                _digest_first(run, counts, first, ts, lines)
                occurrence = counts[digest] if digest is not None else 0
            lines.take(index, ts, occurrence)
            run.append(digest)
            if digest is not None:
                counts[digest] += 1
        if last_ns is not None:
            _digest_first(run, counts, first, last_ns, lines)
        taken = [d for d in run if d is not None]
        return self._next(body, lines.taken(), last_ns, taken, past_window, frozenset(broken))

    def _next(
        self,
        body: Sequence[Record],
        fresh: Sequence[Record],
        last_ns: int | None,
        run: list[str],
        past_window: bool,
        broken: frozenset[str],
    ) -> tuple[CurrentLogPaginator, Sequence[Record]]:
        cursor, limit, trusted = self.cursor, self.limit, self.limit_trusted
        clamped = self.clamped_to
        if fresh and self.last_page is not None and not trusted:
            asked, got = self.last_page
            # Only a plausible cap (the documented 500 or more): logs added while paging
            # also make a short page followed by more.
            if DOCUMENTED_LOG_LIMIT_MAX <= got < asked:
                # A short page was followed by more lines: the server caps `limit` there.
                clamped = limit = got
                trusted = True
        full = len(body) >= limit
        trusted = trusted or full
        done = past_window or not body or (not full and (trusted or not fresh))
        if not done and last_ns == self._start_ns():
            # Still at the nanosecond this page began at: the same request would come back
            # with the same lines. Ask for the lines taken there plus a page more.
            if len(run) >= LOG_LIMIT_CEILING:
                raise PagingStalled(
                    f"more than {LOG_LIMIT_CEILING} log lines of /projects/{self.project}/logs "
                    "share one nanosecond; cannot page past them"
                )
            limit, trusted = min(LOG_LIMIT_CEILING, len(run) + self.limit), False
        if (last_ns is not None and last_ns != cursor.last_ns) or fresh:
            cursor = replace(cursor, last_ns=last_ns, taken=tuple(run))
        state = replace(
            self,
            cursor=replace(cursor, done=done),
            limit=limit,
            limit_trusted=trusted,
            last_page=(self.limit, len(body)),
            clamped_to=clamped,
            broken_seen=self.broken_seen | broken,
        )
        return state, fresh


class _Lines:
    """A page's lines through one interface, whether msgspec structs (`LinePage`) or items
    as `json` decoded them, and the new lines taken from it."""

    def __init__(self, project: str, body: Sequence[Record]) -> None:
        self.project = project
        self.page = body if isinstance(body, LinePage) else None
        self.body: Sequence[Any] = () if isinstance(body, LinePage) else body
        self.records: list[Record] = []
        self.positions: list[int] = []
        self.times: list[int] = []
        self.occurrences: list[int] = []

    def timestamp(self, index: int) -> int | None:
        if self.page is not None:
            return self.page.items[index].timestamp  # decoded only when all are usable
        item = self.body[index]
        return item_timestamp(item) if isinstance(item, dict) else None

    def raw(self, index: int) -> Record:
        """A broken item as a record (only `json` pages hold broken items)."""
        item = self.body[index]
        return item if isinstance(item, dict) else {"item": item}

    def digest(self, index: int, ts: int) -> str:
        if self.page is not None:
            return self.page.digest(index, ts)
        item = self.body[index]
        metadata = item.get("metadata")
        source = source_of(metadata) if isinstance(metadata, Mapping) else {}
        return boundary_digest(ts, item.get("log"), source)

    def take_broken(self, index: int) -> None:
        self.records.append(self.raw(index))

    def take(self, index: int, ts: int, occurrence: int) -> None:
        if self.page is not None:
            self.positions.append(index)
            self.times.append(ts)
            self.occurrences.append(occurrence)
        else:
            self.records.append(as_record(self.project, self.body[index], ts, occurrence))

    def taken(self) -> Sequence[Record]:
        if self.page is not None:
            return LineColumns(
                self.project, self.page, self.positions, self.times, self.occurrences
            )
        return self.records


def _digest_first(
    run: list[str | None], counts: Counter[str], first: int | None, ts: int, lines: _Lines
) -> None:
    """Digest the run's first line (index `first` of the page) if it was left undigested
    (only it can be)."""
    if run and run[0] is None and first is not None:
        digest = lines.digest(first, ts)
        run[0] = digest
        counts[digest] += 1
