"""Requests: the cursor and the pure keyset paginator over `GET /projects/{p}/requests`.

Offsets inside a fixed window shift when requests are created or expire while paging, and
a server may return fewer rows than `limit`. So each page starts at the newest
`time_created` delivered so far (`start_date` is inclusive) and drops the ids already
delivered at exactly that instant. A short page is no proof of the end: paging stops at an
empty page, a page past the window, or a page holding only the boundary's known ties and
shorter than the longest page the server has sent.
Windows are half-open `[start, end)` on `time_created`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from extract.client import ApiRequest
from extract.errors import ApiError
from extract.paging import Record, fingerprint, keys_of, pick
from extract.timeutil import format_api_datetime, parse_api_datetime

ObjectType = Literal["deployment", "pipeline"]
OBJECT_TYPES: tuple[ObjectType, ...] = ("deployment", "pipeline")
# What the current list pages one after the other (`extract.request_list_current`).
FINISHED_STATUSES = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class RequestCursor:
    """Progress through one window of one object type: the `time_created` keyset boundary
    (newest delivered with `sort=asc`; oldest delivered on the current list) and the ids
    delivered at exactly that instant. `status`: the finished status the current list is
    paging (None on the legacy list)."""

    object_type: ObjectType
    window_start: datetime
    window_end: datetime
    boundary: datetime | None = None
    boundary_ids: tuple[str, ...] = ()
    done: bool = False
    status: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "object_type": self.object_type,
            "window_start": format_api_datetime(self.window_start),
            "window_end": format_api_datetime(self.window_end),
            "boundary": format_api_datetime(self.boundary) if self.boundary else None,
            "boundary_ids": list(self.boundary_ids),
            "done": self.done,
            "status": self.status,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestCursor:
        boundary = data.get("boundary")
        object_type = data["object_type"]
        if object_type not in OBJECT_TYPES:
            raise ValueError(f"unknown object_type {object_type!r}")
        return cls(
            object_type=object_type,
            window_start=parse_api_datetime(data["window_start"]),
            window_end=parse_api_datetime(data["window_end"]),
            boundary=parse_api_datetime(boundary) if boundary else None,
            boundary_ids=tuple(data.get("boundary_ids", ())),
            done=bool(data.get("done", False)),
            status=data.get("status"),
        )


@dataclass(frozen=True)
class RequestPaginator:
    """Pages one window. `last_page_size` is what the server actually returned last time;
    `skip` is an offset forced after a page that brought nothing new (so it is not re-asked)."""

    project: str
    cursor: RequestCursor
    limit: int = 50
    last_page_size: int | None = None
    skip: int | None = None
    # The longest page the server has returned in this window (it may clamp `limit`).
    largest_page: int = 0
    # Fingerprints of broken records (no usable id or time_created) delivered in this window.
    broken_seen: frozenset[str] = frozenset()

    def request(self) -> ApiRequest | None:
        cursor = self.cursor
        if cursor.done:
            return None
        params: dict[str, str | int] = {
            "object_type": cursor.object_type,
            "start_date": format_api_datetime(cursor.boundary or cursor.window_start),
            "end_date": format_api_datetime(cursor.window_end),
            "sort": "asc",
            "limit": self.limit,
            "offset": self._offset(),
        }
        return ApiRequest("GET", f"/projects/{self.project}/requests", params=params)

    def _offset(self) -> int:
        """Re-read the boundary's ties (offset 0) so one created meanwhile is not skipped.

        Only when the ties would fill half a page or more (many requests in one instant) are
        they skipped by offset, minus a quarter page of overlap (deduplicated by id) so a few
        ties expiring or being created meanwhile cannot shift an unseen one out of reach.
        """
        if self.skip is not None:
            return self.skip
        ties = len(self.cursor.boundary_ids)
        page = self.last_page_size or self.limit
        return ties - page // 4 if 2 * ties >= page else 0

    def recover(self, error: ApiError) -> RequestPaginator | None:
        return None

    def advance(self, body: Sequence[Record]) -> tuple[RequestPaginator, Sequence[Record]]:
        cursor = self.cursor
        fresh: list[int] = []
        past_window = False
        boundary, ties = cursor.boundary, list(cursor.boundary_ids)
        broken: set[str] = set()
        for index, (request_id, created) in enumerate(keys_of(body, "time_created")):
            if created is not None and created >= cursor.window_end:
                past_window = True
            elif request_id is None or created is None:
                key = fingerprint(body[index])
                if not past_window and key not in self.broken_seen and key not in broken:
                    broken.add(key)
                    fresh.append(index)
            elif created < cursor.window_start or (boundary and created < boundary):
                continue
            elif created != boundary or request_id not in ties:
                fresh.append(index)
                if created != boundary:
                    boundary, ties = created, []
                ties.append(request_id)
        moved = (boundary, len(ties)) != (cursor.boundary, len(cursor.boundary_ids))
        # Only the boundary's own ties came back, fewer than the server has shown it sends
        # per page: nothing follows them. (A short page that brought news proves nothing.)
        only_known_ties = not fresh and 0 < len(body) < self.largest_page
        done = not body or past_window or only_known_ties
        next_cursor = replace(cursor, boundary=boundary, boundary_ids=tuple(ties), done=done)
        state = replace(
            self,
            cursor=next_cursor,
            last_page_size=len(body),
            largest_page=max(self.largest_page, len(body)),
            skip=None if moved else self._offset() + len(body),
            broken_seen=self.broken_seen | broken,
        )
        return state, pick(body, fresh)
