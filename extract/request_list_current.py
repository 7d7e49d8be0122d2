"""Requests as the current service lists them (client 4.6+): the pure paginator.

The list takes no `sort` or `success`, lists only finished requests, newest first, and one
`status` per call (default `completed`: asking for nothing else would drop every failure).
So a window is paged once per finished status, completed, failed, then cancelled, each
keyset-style downwards: `end_date` (inclusive) is the oldest `time_created` delivered so far
and the ids delivered at exactly that instant are dropped when they come again. The cursor
is a `RequestCursor` whose `status` says which status is being paged; a request still running
is listed once it has finished, by a later run that reads its window again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from extract.client import ApiRequest
from extract.errors import ApiError
from extract.paging import Record, fingerprint, keys_of, pick
from extract.request_list import FINISHED_STATUSES, RequestCursor
from extract.timeutil import format_api_datetime


@dataclass(frozen=True)
class CurrentRequestPaginator:
    """Pages one window of one object type, status after status, newest first."""

    project: str
    cursor: RequestCursor
    limit: int = 50
    largest_page: int = 0
    skip: int | None = None
    broken_seen: frozenset[str] = frozenset()

    def request(self) -> ApiRequest | None:
        cursor = self.cursor
        if cursor.done:
            return None
        status = cursor.status or FINISHED_STATUSES[0]
        params: dict[str, str | int] = {
            "object_type": cursor.object_type,
            "status": status,
            "start_date": format_api_datetime(cursor.window_start),
            "end_date": format_api_datetime(cursor.boundary or cursor.window_end),
            "limit": self.limit,
            "offset": self._offset(),
        }
        return ApiRequest("GET", f"/projects/{self.project}/requests", params=params)

    def _offset(self) -> int:
        """Re-read the boundary's ties unless they fill half a page (then skip most)."""
        if self.skip is not None:
            return self.skip
        ties = len(self.cursor.boundary_ids)
        return ties - self.limit // 4 if 2 * ties >= self.limit else 0

    def recover(self, error: ApiError) -> CurrentRequestPaginator | None:
        return None

    def advance(self, body: Sequence[Record]) -> tuple[CurrentRequestPaginator, Sequence[Record]]:
        cursor = self.cursor
        fresh: list[int] = []
        boundary, ties = cursor.boundary, list(cursor.boundary_ids)
        broken: set[str] = set()
        for index, (request_id, created) in enumerate(keys_of(body, "time_created")):
            if request_id is None or created is None:
                key = fingerprint(body[index])
                if key not in self.broken_seen and key not in broken:
                    broken.add(key)
                    fresh.append(index)
            elif (
                created >= cursor.window_end
                or created < cursor.window_start
                or (boundary is not None and created > boundary)
            ):
                continue
            elif created != boundary or request_id not in ties:
                fresh.append(index)
                if created != boundary:
                    boundary, ties = created, []
                ties.append(request_id)
        moved = (boundary, len(ties)) != (cursor.boundary, len(cursor.boundary_ids))
        status_done = not body or (not fresh and len(body) < max(self.largest_page, 1))
        if status_done:
            return self._next_status(broken), pick(body, fresh)
        next_cursor = replace(cursor, boundary=boundary, boundary_ids=tuple(ties))
        state = replace(
            self,
            cursor=next_cursor,
            largest_page=max(self.largest_page, len(body)),
            skip=None if moved else self._offset() + len(body),
            broken_seen=self.broken_seen | frozenset(broken),
        )
        return state, pick(body, fresh)

    def _next_status(self, broken: set[str]) -> CurrentRequestPaginator:
        """This status is exhausted: the next one from the top of the window, or done."""
        current = FINISHED_STATUSES.index(self.cursor.status or FINISHED_STATUSES[0])
        following = FINISHED_STATUSES[current + 1 :]
        cursor = replace(
            self.cursor,
            status=following[0] if following else self.cursor.status,
            boundary=None if following else self.cursor.boundary,
            boundary_ids=() if following else self.cursor.boundary_ids,
            done=not following,
        )
        return replace(
            self,
            cursor=cursor,
            largest_page=0,
            skip=None,
            broken_seen=self.broken_seen | frozenset(broken),
        )
