"""The simulator in its own process, for the benchmarks: its CPU is not the ETL's.

    python -m bench.simproc '{"projects": 1, "days": 30, "logs_per_day": 38500, ...}'

Prints one JSON line (base URL, token, now, projects, truth counts), then serves until its
stdin closes. Besides the API it answers `GET /__bench__/stats`: calls per operation, the
time, group and status of every call (for the rate-limit scenario) and its own CPU time.
"""

from __future__ import annotations

import json
import resource
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simulator import Faults, SystemClock, WorldSpec, create_app, generate_world, serve_in_thread
from simulator.app import classify

STATS_PATH = "/__bench__/stats"


class CallRecorder:
    """Outermost ASGI layer: (wall time, group, status) of every API call."""

    def __init__(self, app: ASGIApp, sim_app: Any) -> None:
        self.app = app
        self.sim_app = sim_app
        self.calls: list[tuple[float, str, str, int]] = []
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == STATS_PATH:
            await self._stats(send)
            return
        operation, group = classify(scope["method"], scope["path"])

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                with self.lock:
                    self.calls.append((time.time(), operation, group, int(message["status"])))
            await send(message)

        await self.app(scope, receive, recording_send)

    async def _stats(self, send: Send) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with self.lock:
            calls = list(self.calls)
        body = json.dumps(
            {
                "stats": self.sim_app.state.stats.snapshot(),
                "calls": calls,
                "cpu_s": usage.ru_utime + usage.ru_stime,
            }
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def truth(world: Any, project: str, since: datetime) -> dict[str, int]:
    """How many records of each stream a correct extraction of [since, now] must deliver."""
    store = world.projects[project].logs
    since_ns = int(since.timestamp() * 1e9)
    seqs = store.visible_seqs(world.as_of_ns)
    logs = sum(1 for seq in seqs if store.date_ns(seq) >= since_ns)
    requests = len(world.truth_requests(project, still_served=True))
    audit = len(world.truth_audit_events(project))
    return {"logs": logs, "requests": requests, "audit_events": audit}


def main() -> None:
    params: dict[str, Any] = json.loads(sys.argv[1])
    faults = Faults(
        latency_s=params.pop("latency_s", 0.0),
        rate_limit_per_min=params.pop("rate_limit_per_min", None),
    )
    backfill_days = params.pop("backfill_days", params.get("days", 10))
    log_limit_max = params.pop("log_limit_max", 500)
    api = params.pop("api", "legacy")
    clock = SystemClock()
    # Whole seconds, so the ETL's and the baseline's range ends are exact.
    now = clock.now().replace(microsecond=0)
    spec = WorldSpec(foreign_projects=0, **params)
    world = generate_world(spec, now=now)
    sim_app = create_app(world, clock=clock, faults=faults, log_limit_max=log_limit_max, api=api)
    app = CallRecorder(sim_app, sim_app)
    since = now - timedelta(days=backfill_days)
    counts = {p: truth(world, p, since) for p in world.project_names}
    with serve_in_thread(app) as server:
        ready = {
            "base_url": server.base_url,
            "token": world.token,
            "now": now.astimezone(UTC).isoformat(),
            "since": since.isoformat(),
            "projects": list(world.project_names),
            "truth": counts,
        }
        print(json.dumps(ready), flush=True)
        sys.stdin.read()  # serve until the parent closes our stdin


if __name__ == "__main__":
    main()
