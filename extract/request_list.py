"""Requests: the cursor and the pure keyset paginator over `GET /projects/{p}/requests`.

Offsets inside a fixed window shift when requests are created or expire while paging, and
a server may return fewer rows than `limit`. So each page starts at the newest
`time_created` delivered so far (`start_date` is inclusive) and drops the ids already
delivered at exactly that instant; only an empty page (or one past the window) ends it.
Windows are half-open `[start, end)` on `time_created`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from extract.client import ApiRequest
from extract.paging import Record
from extract.timeutil import format_api_datetime, parse_api_datetime

ObjectType = Literal["deployment", "pipeline"]
OBJECT_TYPES: tuple[ObjectType, ...] = ("deployment", "pipeline")


@dataclass(frozen=True)
class RequestCursor:
    """Progress through one window of one object type: the newest `time_created` delivered
    (the keyset boundary) and the ids delivered at exactly that instant."""

    object_type: ObjectType
    window_start: datetime
    window_end: datetime
    boundary: datetime | None = None
    boundary_ids: tuple[str, ...] = ()
    done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "object_type": self.object_type,
            "window_start": format_api_datetime(self.window_start),
            "window_end": format_api_datetime(self.window_end),
            "boundary": format_api_datetime(self.boundary) if self.boundary else None,
            "boundary_ids": list(self.boundary_ids),
            "done": self.done,
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
        )


@dataclass(frozen=True)
class RequestPaginator:
    """Pages one window. `last_page_size` is what the server actually returned last time."""

    project: str
    cursor: RequestCursor
    limit: int = 50
    last_page_size: int | None = None

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
        ties = len(self.cursor.boundary_ids)
        page = self.last_page_size or self.limit
        return ties - page // 4 if 2 * ties >= page else 0

    def advance(self, body: list[Record]) -> tuple[RequestPaginator, list[Record]]:
        cursor = self.cursor
        fresh: list[Record] = []
        past_window = False
        boundary, ties = cursor.boundary, list(cursor.boundary_ids)
        for record in body:
            created = parse_api_datetime(str(record["time_created"]))
            if created >= cursor.window_end:
                past_window = True
                continue
            if created < cursor.window_start or (boundary and created < boundary):
                continue
            record_id = str(record["id"])
            if created == boundary and record_id in ties:
                continue
            fresh.append(record)
            if created != boundary:
                boundary, ties = created, []
            ties.append(record_id)
        done = not body or past_window
        next_cursor = replace(cursor, boundary=boundary, boundary_ids=tuple(ties), done=done)
        return replace(self, cursor=next_cursor, last_page_size=len(body)), fresh
