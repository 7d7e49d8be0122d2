"""Shared fakes for the extract unit tests: a clock that never waits and client builders."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from extract import ClientConfig, RetryPolicy, UbiOpsClient
from extract.timeutil import parse_api_datetime

HOST = "https://ubiops.test/v2.1"
TOKEN = "s3cr3t-token-value"


class FakeClock:
    """Monotonic time that only moves when someone sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Callable[..., UbiOpsClient]:
    """Build a client over an `httpx.MockTransport` handler, with the fake clock."""

    def build(handler: Handler, **config: Any) -> UbiOpsClient:
        values: dict[str, Any] = {"host": HOST, "token": SecretStr(TOKEN)}
        values.update(config)
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        return UbiOpsClient(http, ClientConfig(**values), clock=clock)

    return build


@pytest.fixture
def no_wait() -> RetryPolicy:
    return RetryPolicy(wait=False, max_attempts=4)


# -- honest models of the three list endpoints, paged by the pure paginators ---------------


def render_date(value: datetime, style: int) -> str:
    """The API's date spellings: 6 or 9 fractional digits, `Z` or `+00:00`."""
    text = value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if style & 1:
        text += "000"
    return text + ("Z" if style & 2 else "+00:00")


class LogApi:
    """POST /logs over a list ordered by (date, id): inclusive cursor, clamped limit."""

    def __init__(self, logs: list[tuple[datetime, str]], server_max: int) -> None:
        self.logs = sorted(logs)
        self.server_max = server_max
        self.calls = 0

    def page(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls += 1
        assert 0 < body["date_range"] <= 86_400
        limit = min(body["limit"], self.server_max)
        if "id" in body:
            begin = next((i for i, (_, i_d) in enumerate(self.logs) if i_d == body["id"]), None)
            if begin is None:
                return []
            start = self.logs[begin][0]
        else:
            start = parse_api_datetime(body["date"])
            begin = bisect.bisect_left(self.logs, (start, ""))
        stop = start + timedelta(seconds=body["date_range"])
        out = []
        for n, (date, log_id) in enumerate(self.logs[begin:]):
            if date > stop or len(out) >= limit:
                break
            out.append({"id": log_id, "date": render_date(date, n), "log": "x"})
        return out

    def add(self, date: datetime) -> str:
        """A new log; its id sorts after every existing one (ids grow with creation)."""
        log_id = f"{len(self.logs) + 10**6:024x}"
        bisect.insort(self.logs, (date, log_id))
        return log_id


class RequestApi:
    """GET /requests: inclusive date filters, sort=asc, ties in insertion order, clamped."""

    def __init__(self, created: list[datetime], server_max: int) -> None:
        self.rows: list[tuple[datetime, int, str]] = []
        self._sequence = itertools.count()
        self.server_max = server_max
        self.calls = 0
        for moment in created:
            self.add(moment)

    def add(self, moment: datetime) -> str:
        """A new request; among equal creation times it sorts after the existing ones."""
        seq = next(self._sequence)
        request_id = f"req-{seq:06d}"
        bisect.insort(self.rows, (moment, seq, request_id))
        return request_id

    def expire_oldest(self) -> str | None:
        return self.rows.pop(0)[2] if self.rows else None

    def page(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls += 1
        assert params["sort"] == "asc"
        start = parse_api_datetime(params["start_date"])
        end = parse_api_datetime(params["end_date"])
        matching = [row for row in self.rows if start <= row[0] <= end]
        limit = min(int(params["limit"]), self.server_max)
        chosen = matching[int(params["offset"]) :][:limit]
        return [
            {"id": rid, "time_created": render_date(moment, 0), "status": "pending"}
            for moment, _, rid in chosen
        ]


class AuditApi:
    """GET /audit: newest first (ties: newest insertion first), offset paging, clamped."""

    def __init__(self, dates: list[datetime], server_max: int) -> None:
        self.events: list[tuple[datetime, int, str]] = []
        self.server_max = server_max
        self.calls = 0
        for moment in dates:
            self.add(moment)

    def add(self, moment: datetime) -> str:
        seq = len(self.events)
        event_id = f"evt-{seq}"
        self.events.append((moment, seq, event_id))
        self.events.sort(reverse=True)
        return event_id

    def page(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls += 1
        limit = min(int(params["limit"]), self.server_max)
        offset = int(params["offset"])
        return [
            {"id": eid, "date": render_date(moment, 2), "action": "info"}
            for moment, _, eid in self.events[offset : offset + limit]
        ]


@pytest.fixture(scope="session")
def log_api() -> type[LogApi]:
    return LogApi


@pytest.fixture(scope="session")
def request_api() -> type[RequestApi]:
    return RequestApi


@pytest.fixture(scope="session")
def audit_api() -> type[AuditApi]:
    return AuditApi
