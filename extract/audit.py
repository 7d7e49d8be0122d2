"""Audit events: the cursor and the pure paginator over `GET /projects/{p}/audit`.

The list is newest first with offset paging and no date filter, so the only incremental
strategy is to scan from the newest event down to the ones already held. New events shift
offsets during the scan; records at or above the scan's frontier (the oldest date delivered
so far) were seen already and are dropped, so a shift repeats records but never skips one.
The scan ends at the first event older than the boundary, at an empty page, or at a page
that brought nothing new and is shorter than the longest page the server has sent (events
added meanwhile pushed already-seen ones into the tail: chasing them would never end).
The boundary moves to the scan's newest event only when the scan is complete: committing it
earlier would make a crash mid-scan skip the older part for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from extract.client import ApiRequest
from extract.errors import ApiError
from extract.paging import Record, fingerprint, keys_of, pick
from extract.timeutil import format_api_datetime, parse_api_datetime


@dataclass(frozen=True)
class AuditCursor:
    """The newest event held: its date and every id held at exactly that date."""

    newest_date: datetime | None = None
    newest_ids: tuple[str, ...] = ()

    def holds(self, date: datetime, event_id: str) -> bool:
        """Whether an event at `date` is at or below this boundary (already held)."""
        if self.newest_date is None:
            return False
        return date < self.newest_date or (date == self.newest_date and event_id in self.newest_ids)

    def including(self, date: datetime, event_id: str) -> AuditCursor:
        """This boundary moved up to include one more event."""
        if self.newest_date is None or date > self.newest_date:
            return AuditCursor(date, (event_id,))
        if date == self.newest_date and event_id not in self.newest_ids:
            return AuditCursor(date, (*self.newest_ids, event_id))
        return self

    def to_json(self) -> dict[str, Any]:
        newest = format_api_datetime(self.newest_date) if self.newest_date else None
        return {"newest_date": newest, "newest_ids": list(self.newest_ids)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditCursor:
        newest = data.get("newest_date")
        return cls(
            newest_date=parse_api_datetime(newest) if newest else None,
            newest_ids=tuple(data.get("newest_ids", ())),
        )


@dataclass(frozen=True)
class AuditPaginator:
    """One scan from the newest event down to `known` (or to the end of the history)."""

    project: str
    known: AuditCursor = AuditCursor()
    limit: int = 100
    offset: int = 0
    # The oldest date delivered in this scan and the ids delivered at it.
    frontier: AuditCursor = AuditCursor()
    # The newest event delivered in this scan: the boundary once the scan is complete.
    top: AuditCursor = AuditCursor()
    done: bool = False
    # The longest page the server has returned in this scan (it may clamp `limit`).
    largest_page: int = 0
    # Fingerprints of broken records (no usable id or date) delivered in this scan.
    broken_seen: frozenset[str] = frozenset()

    @property
    def cursor(self) -> AuditCursor:
        """What to commit: the old boundary mid-scan, the merged new one when done."""
        if not self.done or self.top.newest_date is None:
            return self.known
        merged = self.known
        for event_id in self.top.newest_ids:
            merged = merged.including(self.top.newest_date, event_id)
        return merged

    def request(self) -> ApiRequest | None:
        if self.done:
            return None
        params = {"limit": self.limit, "offset": self.offset}
        return ApiRequest("GET", f"/projects/{self.project}/audit", params=params)

    def recover(self, error: ApiError) -> AuditPaginator | None:
        return None

    def advance(self, body: Sequence[Record]) -> tuple[AuditPaginator, Sequence[Record]]:
        fresh: list[int] = []
        frontier, top, reached_known = self.frontier, self.top, False
        broken: set[str] = set()
        for index, (event_id, date) in enumerate(keys_of(body, "date")):
            if event_id is None or date is None:
                key = fingerprint(body[index])
                if key not in self.broken_seen and key not in broken:
                    broken.add(key)
                    fresh.append(index)
                continue
            if self.known.newest_date is not None and date < self.known.newest_date:
                reached_known = True
                break
            if self.known.holds(date, event_id) or _seen(frontier, date, event_id):
                continue
            fresh.append(index)
            frontier = _lower(frontier, date, event_id)
            if top.newest_date is None or date == top.newest_date:
                top = top.including(date, event_id)
        # Events added while we page push already-seen ones into the tail: a page shorter
        # than the largest one the server has sent, with nothing new, is that tail, not news.
        shifted_tail = not fresh and len(body) < self.largest_page
        state = replace(
            self,
            offset=self.offset + len(body),
            frontier=frontier,
            top=top,
            done=reached_known or not body or shifted_tail,
            largest_page=max(self.largest_page, len(body)),
            broken_seen=self.broken_seen | broken,
        )
        return state, pick(body, fresh)


def _seen(frontier: AuditCursor, date: datetime, event_id: str) -> bool:
    """Above the frontier means delivered already in this scan (offsets shifted)."""
    if frontier.newest_date is None:
        return False
    if date > frontier.newest_date:
        return True
    return date == frontier.newest_date and event_id in frontier.newest_ids


def _lower(frontier: AuditCursor, date: datetime, event_id: str) -> AuditCursor:
    """The frontier moved down to (or extended at) `date`."""
    if frontier.newest_date is None or date < frontier.newest_date:
        return AuditCursor(date, (event_id,))
    return AuditCursor(date, (*frontier.newest_ids, event_id))
