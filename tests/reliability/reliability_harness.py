"""Shared machinery of the reliability suite: an in-process simulator on a real socket that can
go dark and come back, the CLI as a killable subprocess, and checks of the lake against the
simulator's ground truth (read straight from the Parquet files with DuckDB)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from lakeroot import LakeRoot
from s3proxy import S3Proxy
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simulator import Faults, World, WorldSpec, create_app, generate_world, serve_in_thread

BIN = Path(sys.executable).parent
CLI = str(BIN / "ubiops-etl")
ENTRY = str(Path(__file__).with_name("chaos_entry.py"))
SOAK = os.environ.get("UBIOPS_ETL_SOAK", "") not in ("", "0", "false")
TRACEBACK = "Traceback (most recent call last)"


# -- the simulator's side -------------------------------------------------------------------


class WallClock:
    """The simulator's clock: real time while runs go on, frozen for the final comparison.

    Real time keeps the API's "now" next to the ETL's (late logs fall inside its lookback),
    and lets requests progress between and during runs.
    """

    def __init__(self) -> None:
        self._frozen: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._frozen or datetime.now(UTC)

    def freeze(self) -> datetime:
        """Stop time here: the world changes no more, so its truth is final."""
        with self._lock:
            self._frozen = self._frozen or datetime.now(UTC)
            return self._frozen


class _RelayedSend:
    """A replacement `send` that still exposes the server's transport the way uvicorn's own
    bound `send` does, so the simulator's dropped-connection fault can still abort the
    socket through a wrapper (it looks for `send.__self__.transport`)."""

    def __init__(self, original: Send, relay: Callable[[Message], Any]) -> None:
        self.transport = getattr(getattr(original, "__self__", None), "transport", None)
        self._relay = relay

    async def send(self, message: Message) -> None:
        await self._relay(message)


BodyRewrite = Callable[[Scope, int, bytes], tuple[int, bytes] | None]


class Rewrite:
    """ASGI wrapper around the simulator: rename paths before it routes them, and rewrite
    whole response bodies (`body(scope, status, data)` returns a new status and body)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        body: BodyRewrite | None = None,
        path: Callable[[str], str] | None = None,
    ) -> None:
        self.app = app
        self.body = body
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.path is not None and (new := self.path(scope["path"])) != scope["path"]:
            scope = {**scope, "path": new, "raw_path": new.encode()}
        if self.body is None:
            await self.app(scope, receive, send)
            return
        rewrite = self.body
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            status, data = start["status"], b"".join(chunks)
            status, data = rewrite(scope, status, data) or (status, data)
            headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
            headers.append((b"content-length", str(len(data)).encode()))
            await send({**start, "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": data})

        await self.app(scope, receive, _RelayedSend(send, capture).send)


class ShortResets:
    """ASGI wrapper: a 429 keeps its `x-ratelimit-reset`/`Retry-After` headers, capped at
    `cap` seconds (the simulator says "until the end of the minute", up to 60 s, which
    the client honours; the suite cannot wait minutes)."""

    def __init__(self, app: ASGIApp, cap: int = 1) -> None:
        self.app = app
        self.cap = cap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def capped(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 429:
                headers = []
                for key, value in message.get("headers", []):
                    wait = value
                    if key.lower() in (b"x-ratelimit-reset", b"retry-after"):
                        wait = str(min(int(value), self.cap)).encode()
                    headers.append((key, wait))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, _RelayedSend(send, capped).send)


class Gate:
    """ASGI wrapper: calls about one project's data (`/projects/<p>/...`) wait until the test
    opens the gate, so a run holds its leases for as long as the test needs (the listing
    `/projects` passes, so a second run gets as far as taking leases)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.opened = threading.Event()
        self.waiting = 0

    def open(self) -> None:
        self.opened.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/v2.1/projects/"):
            self.waiting += 1
            await asyncio.get_running_loop().run_in_executor(None, self.opened.wait, 120)
        await self.app(scope, receive, send)


Wrapper = Callable[[ASGIApp], ASGIApp]


class SimServer:
    """The simulator (same world object as the test) on a loopback port that can be taken
    down (connections refused) and brought back on the same port."""

    def __init__(self, world: World, app: Any, clock: WallClock, wrap: Wrapper | None) -> None:
        self.world = world
        self.app = app
        self.clock = clock
        self.served: ASGIApp = ShortResets(wrap(app) if wrap else app)
        self.port = 0
        self._stack: contextlib.ExitStack | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2.1"

    @property
    def token(self) -> str:
        return self.world.token

    @property
    def up(self) -> bool:
        return self._stack is not None

    def start(self) -> None:
        stack = contextlib.ExitStack()
        handle = stack.enter_context(serve_in_thread(self.served, port=self.port))
        self.port = handle.port
        self._stack = stack

    def stop(self) -> None:
        """Close the listening socket: new connections are refused until `start`."""
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def set_faults(self, faults: Faults) -> None:
        self.app.state.sim.faults = faults

    @property
    def faults(self) -> Faults:
        faults: Faults = self.app.state.sim.faults
        return faults

    def stats(self) -> dict[str, dict[str, int]]:
        snapshot: dict[str, dict[str, int]] = self.app.state.stats.snapshot()
        return snapshot


@contextlib.contextmanager
def running_sim(
    spec: WorldSpec, faults: Faults | None = None, wrap: Wrapper | None = None
) -> Iterator[SimServer]:
    """A live simulator of `spec` on real time, served until the block ends."""
    clock = WallClock()
    world = generate_world(spec, now=clock.now())
    app = create_app(world, clock=clock, faults=faults or Faults(), live=True)
    server = SimServer(world, app, clock, wrap)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# -- the ETL's side -------------------------------------------------------------------------


def clean_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The parent environment without any UBIOPS_/PREFECT_ variable of the developer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UBIOPS_", "PREFECT_"))}
    env.update(base or {})
    return env


@dataclass
class RunResult:
    """One CLI run: exit code (-9 when SIGKILLed), output, how long it took."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float
    killed: bool = False
    kill_reason: str = ""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def last_error_line(self) -> str:
        lines = [ln for ln in self.stderr.splitlines() if ln.startswith("error:")]
        return lines[-1] if lines else ""


@dataclass
class Etl:
    """Runs `ubiops-etl` against one lake root; through the chaos entry (test-only knobs) if
    asked, and with its S3 traffic through a proxy if one is given."""

    env: dict[str, str]
    root: LakeRoot

    @property
    def warehouse(self) -> LakeRoot:
        return self.root

    def command(self, *args: str, entry: bool = False) -> list[str]:
        return [sys.executable, ENTRY, *args] if entry else [CLI, *args]

    def run(
        self,
        *args: str,
        timeout: float = 300,
        entry: bool = False,
        proxy: S3Proxy | None = None,
        **extra_env: str,
    ) -> RunResult:
        """Run to completion."""
        return self.spawn(*args, entry=entry, proxy=proxy, **extra_env).wait(timeout)

    def spawn(
        self, *args: str, entry: bool = False, proxy: S3Proxy | None = None, **extra_env: str
    ) -> Proc:
        """Start `ubiops-etl *args`; with `proxy`, its S3 endpoint is the proxy, which may
        SIGKILL it (it is the proxy's victim until the next spawn)."""
        env = {**self.env, **self.root.env(proxy.endpoint if proxy else None), **extra_env}
        started = time.monotonic()
        popen = subprocess.Popen(
            self.command(*args, entry=entry),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if proxy is not None:
            proxy.victims = [popen.pid]
        return Proc(args, popen, started)


@dataclass
class Proc:
    """A running CLI subprocess; output is drained by threads so pipes never fill."""

    args: tuple[str, ...]
    popen: subprocess.Popen[str]
    started: float
    killed_because: str = ""
    _out: list[str] = field(default_factory=list)
    _err: list[str] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        for stream, sink in ((self.popen.stdout, self._out), (self.popen.stderr, self._err)):
            thread = threading.Thread(target=_drain, args=(stream, sink), daemon=True)
            thread.start()
            self._threads.append(thread)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, reason: str) -> bool:
        """SIGKILL it (if still running); True if the signal was delivered."""
        if not self.alive():
            return False
        try:
            os.kill(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        self.killed_because = reason
        return True

    def wait(self, timeout: float = 300) -> RunResult:
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise
        for thread in self._threads:
            thread.join(timeout=10)
        killed = code == -signal.SIGKILL
        return RunResult(
            self.args,
            code,
            "".join(self._out),
            "".join(self._err),
            time.monotonic() - self.started,
            killed,
            self.killed_because or ("self-kill at a storage step" if killed else ""),
        )


def _drain(stream: Any, sink: list[str]) -> None:
    for line in iter(stream.readline, ""):
        sink.append(line)
    stream.close()


def wait_for(check: Callable[[], bool], what: str, timeout_s: float, every_s: float = 0.05) -> bool:
    """Poll an external process for a condition with a deadline; False if it never held."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)
    return True


# -- the lake against the truth ---------------------------------------------------------------

COLUMNS = {
    "logs": "id, date, log, level, project",
    "requests": "id, status, time_completed, project",
    "audit_events": "id, project",
}
VIAS = ("views", "files")
"""How the lake is read back: the product's DuckDB views (files of the current Delta version),
and plain `read_parquet` of the README's glob, which must agree after a finished run."""


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    try:
        rel = con.sql(sql)
    except duckdb.IOException as exc:
        if "No files found" in str(exc):
            return []
        raise
    names = rel.columns
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]


def read_table(
    root: LakeRoot, table: str, columns: str = "*", via: str = "files"
) -> list[dict[str, Any]]:
    """Every row of `table` as dicts: through plain `read_parquet` of
    `<root>/<table>/project=*/**/*.parquet` (hive partitions), or through the views."""
    if via == "views":
        with root.views() as con:
            return _rows(con, f"SELECT {columns} FROM {table}")
    if not root.list_keys(table):
        return []
    with root.plain_duckdb() as con:
        glob = root.data_glob(table)
        return _rows(con, f"SELECT {columns} FROM read_parquet('{glob}', hive_partitioning = true)")


def read_rejects(root: LakeRoot, via: str = "files") -> list[dict[str, Any]]:
    """Every rejected record (table, project, reason, raw) of every `_rejects/<table>`."""
    columns = '"table", project, reason, raw'
    if via == "views":
        with root.views() as con:
            return _rows(con, f"SELECT {columns} FROM rejects")
    if not root.list_keys("_rejects"):
        return []
    with root.plain_duckdb() as con:
        glob = f"{root.uri}/_rejects/*/project=*/**/*.parquet"
        return _rows(con, f"SELECT {columns} FROM read_parquet('{glob}', hive_partitioning = true)")


@dataclass
class LakeRows:
    """The event tables and rejects of a lake, read once one way (`via`)."""

    via: str
    tables: dict[str, list[dict[str, Any]]]
    rejects: list[dict[str, Any]]

    def rows(self, table: str, project: str) -> list[dict[str, Any]]:
        return [r for r in self.tables[table] if r["project"] == project]

    def rejected(self, table: str, project: str) -> list[dict[str, Any]]:
        return [r for r in self.rejects if r["table"] == table and r["project"] == project]


def read_lake(root: LakeRoot, via: str) -> LakeRows:
    tables = {t: read_table(root, t, c, via) for t, c in COLUMNS.items()}
    return LakeRows(via, tables, read_rejects(root, via))


def parse_api_time(text: str) -> datetime:
    """An API datetime (6 or 9 fractional digits, Z or +00:00) at microsecond precision."""
    match = re.match(r"(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if match is None:
        raise ValueError(text)
    frac = (match.group(2) or "0")[:6].ljust(6, "0")
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.fromisoformat(f"{match.group(1)}.{frac}{zone}").astimezone(UTC)


def broken_fingerprint(kind: str, record: dict[str, Any]) -> str:
    """How a record served without its id is recognised in `_rejects` (its other fields)."""
    body = {k: v for k, v in record.items() if k != "id"}
    if kind == "requests":  # its status may have moved on since it was rejected
        body = {k: body.get(k) for k in ("time_created", "deployment", "pipeline", "version")}
    return json.dumps(body, sort_keys=True, default=str)


@dataclass
class Verdict:
    """Lake versus truth for one (project, table)."""

    table: str
    project: str
    via: str = "files"
    expected_rows: int = 0
    rows: int = 0
    rejected_expected: int = 0
    rejected_found: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    rejects_missing: list[str] = field(default_factory=list)
    row_ids: set[str] = field(default_factory=set)
    unreachable: int = 0
    """Requests that expired from the API before any run could see them (not a loss)."""

    @property
    def ok(self) -> bool:
        return not (
            self.lost or self.duplicated or self.wrong or self.unexpected or self.rejects_missing
        )

    def describe(self) -> str:
        parts = [
            f"{self.table}/{self.project} ({self.via}): {self.rows} rows of {self.expected_rows}"
        ]
        for name in ("lost", "duplicated", "wrong", "unexpected", "rejects_missing"):
            items = getattr(self, name)
            if items:
                parts.append(f"{name}={len(items)} e.g. {items[:3]}")
        return "; ".join(parts)


def _served_split(
    records: list[dict[str, Any]], faults: Faults
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """(intact by id, broken-with-id by id, broken-without-id): corruption kinds 0-3 make a
    record untypable; kind 4 only adds unknown fields, which the table keeps in `_extra`."""
    intact: dict[str, dict[str, Any]] = {}
    broken: dict[str, dict[str, Any]] = {}
    anonymous: list[dict[str, Any]] = []
    for record in records:
        how = faults.corruption(record["id"])
        if how is None or how == 4:
            intact[record["id"]] = record
        elif how == 3:
            anonymous.append(record)
        else:
            broken[record["id"]] = record
    return intact, broken, anonymous


def _check_rejects(
    verdict: Verdict,
    kind: str,
    broken: dict[str, dict[str, Any]],
    anonymous: list[dict[str, Any]],
    rejects: list[dict[str, Any]],
) -> None:
    raws = [json.loads(r["raw"]) for r in rejects]
    ids = {raw.get("id") for raw in raws if isinstance(raw, dict)}
    prints = {broken_fingerprint(kind, raw) for raw in raws if "id" not in raw}
    verdict.rejected_expected = len(broken) + len(anonymous)
    missing = [i for i in broken if i not in ids]
    missing += [
        f"no-id record of {r.get('date') or r.get('time_created')}"
        for r in anonymous
        if broken_fingerprint(kind, r) not in prints
    ]
    verdict.rejected_found = verdict.rejected_expected - len(missing)
    verdict.rejects_missing += missing
    # Rows + rejects = records served: a rejected record must not also be a table row.
    verdict.unexpected += [i for i in broken if i in verdict.row_ids]


def check_logs(lake: LakeRows, world: World, project: str, faults: Faults) -> Verdict:
    """Every log once, text byte-exact, date exact; broken ones in `_rejects` instead."""
    verdict = Verdict("logs", project, lake.via)
    truth = world.truth_logs(project)
    intact, broken, anonymous = _served_split(truth, faults)
    rows = lake.rows("logs", project)
    _compare_ids(verdict, intact, rows)
    for row in rows:
        want = intact.get(row["id"])
        if want is None:
            continue
        if row["log"] != want["log"]:
            verdict.wrong.append(f"{row['id']}: log text differs")
        elif row["date"] != parse_api_time(want["date"]):
            verdict.wrong.append(f"{row['id']}: date {row['date']} != {want['date']}")
    _check_rejects(verdict, "logs", broken, anonymous, lake.rejected("logs", project))
    return verdict


def check_requests(lake: LakeRows, world: World, project: str, faults: Faults) -> Verdict:
    """Every request the API still serves once, at its current state; nothing invented."""
    verdict = Verdict("requests", project, lake.via)
    served = world.truth_requests(project, still_served=True)
    ever = {r["id"]: r for r in world.truth_requests(project)}
    intact, broken, anonymous = _served_split(served, faults)
    rows = lake.rows("requests", project)
    _compare_ids(verdict, intact, rows, allowed=set(ever))
    for row in rows:
        want = intact.get(row["id"])
        if want is not None and row["status"] != want["status"]:
            verdict.wrong.append(f"{row['id']}: status {row['status']} != {want['status']}")
    seen = {r["id"] for r in rows}
    verdict.unreachable = sum(1 for i in ever if i not in seen and i not in intact)
    _check_rejects(verdict, "requests", broken, anonymous, lake.rejected("requests", project))
    return verdict


def check_audit(lake: LakeRows, world: World, project: str, faults: Faults) -> Verdict:
    """Every audit event once; broken ones in `_rejects`."""
    verdict = Verdict("audit_events", project, lake.via)
    intact, broken, anonymous = _served_split(world.truth_audit_events(project), faults)
    _compare_ids(verdict, intact, lake.rows("audit_events", project))
    rejected = lake.rejected("audit_events", project)
    _check_rejects(verdict, "audit_events", broken, anonymous, rejected)
    return verdict


def _compare_ids(
    verdict: Verdict,
    intact: dict[str, dict[str, Any]],
    rows: list[dict[str, Any]],
    allowed: set[str] | None = None,
) -> None:
    counts = Counter(r["id"] for r in rows)
    verdict.row_ids = set(counts)
    verdict.expected_rows = len(intact)
    verdict.rows = len(rows)
    verdict.lost = [i for i in intact if counts[i] == 0]
    verdict.duplicated = [i for i, n in counts.items() if n > 1]
    permitted = allowed if allowed is not None else set(intact)
    verdict.unexpected = [i for i in counts if i not in permitted]


CHECKS = {"logs": check_logs, "requests": check_requests, "audit_events": check_audit}


def check_lake(
    root: LakeRoot,
    world: World,
    faults: Faults,
    vias: tuple[str, ...] = VIAS,
    tables: tuple[str, ...] = tuple(CHECKS),
) -> list[Verdict]:
    """Every event table (of `tables`) of every visible project against the truth, read
    through the views and through plain `read_parquet` (each must be exact on its own)."""
    verdicts = []
    for via in vias:
        lake = read_lake(root, via)
        for project in world.project_names:
            verdicts += [CHECKS[table](lake, world, project, faults) for table in tables]
    return verdicts


def describe(verdicts: list[Verdict]) -> str:
    bad = [v.describe() for v in verdicts if not v.ok]
    return "lake differs from the truth:\n" + "\n".join(bad)


def assert_exact(verdicts: list[Verdict]) -> None:
    assert all(v.ok for v in verdicts), describe(verdicts)


def snapshot_rows(root: LakeRoot, table: str, via: str = "files") -> Counter[str]:
    """Rows per project of a snapshot table (replace semantics: the newest rows only)."""
    return Counter(r["project"] for r in read_table(root, table, "project", via))


def covered_but_missing(root: LakeRoot, sim: SimServer) -> list[str]:
    """Records inside a committed cursor's range that the lake does not hold."""
    missing: list[str] = []
    logs = {r["id"] for r in read_table(root, "logs", "id")}
    requests = {r["id"] for r in read_table(root, "requests", "id")}
    audits = {r["id"] for r in read_table(root, "audit_events", "id")}
    for project in sim.world.project_names:
        state = read_state(root, project, "logs")
        for start, end in [
            (datetime.fromisoformat(a), datetime.fromisoformat(b))
            for a, b in state.get("completed", [])
        ]:
            missing += [
                f"log {r['id']}"
                for r in sim.world.truth_logs(project)
                if start <= parse_api_time(r["date"]) < end and r["id"] not in logs
            ]
        for object_type, sub in read_state(root, project, "requests").items():
            if not isinstance(sub, dict) or not sub.get("covered_until"):
                continue
            until = datetime.fromisoformat(sub["covered_until"])
            missing += [
                f"request {r['id']}"
                for r in sim.world.truth_requests(project, still_served=True)
                if parse_api_time(r["time_created"]) < until
                and r["id"] not in requests
                and (r.get("deployment") if object_type == "deployment" else r.get("pipeline"))
            ]
        if read_state(root, project, "audit_events").get("cursor"):
            missing += [
                f"audit {r['id']}"
                for r in sim.world.truth_audit_events(project)
                if r["id"] not in audits
            ]
    return missing


def read_state(root: LakeRoot, project: str, stream: str) -> dict[str, Any]:
    """The committed cursor document of (project, stream), {} before the first commit."""
    data = root.get(f"_state/streams/{project}/{stream}.json")
    doc: dict[str, Any] = json.loads(data) if data is not None else {}
    return doc


# -- secrets ---------------------------------------------------------------------------------


def texts_of(name: str, data: bytes) -> str:
    """What a file says: every cell of a Parquet file (decompressed), the raw bytes otherwise."""
    if name.endswith(".parquet"):
        try:
            table = pq.read_table(pa.BufferReader(data))
        except Exception:  # a torn file: fall back to its bytes
            return data.decode("utf-8", "replace")
        return json.dumps(table.to_pylist(), default=str, ensure_ascii=False)
    return data.decode("utf-8", "replace")


def leaks_in_tree(root: Path, needles: list[str]) -> list[str]:
    """Files under a local folder that contain one of `needles` (name and which needle)."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        text = texts_of(path.name, path.read_bytes())
        found += [f"{path.relative_to(root)} contains {n[:4]}..." for n in needles if n in text]
    return found


def leaks_in_lake(root: LakeRoot, needles: list[str]) -> tuple[list[str], int]:
    """Objects of the lake (local or S3) that contain one of `needles`; and how many were
    searched."""
    found = []
    keys = root.list_keys()
    for key in keys:
        text = texts_of(key, root.get(key) or b"")
        found += [f"{key} contains {n[:4]}..." for n in needles if n in text]
    return found, len(keys)


# -- figures ---------------------------------------------------------------------------------


@dataclass
class Figures:
    """What the suite did and found; written to bench/reliability.md at the end."""

    faults: Counter[str] = field(default_factory=Counter)
    kills: Counter[str] = field(default_factory=Counter)
    bad_inputs: Counter[str] = field(default_factory=Counter)
    runs: int = 0
    records_checked: int = 0
    records_lost: int = 0
    records_duplicated: int = 0
    records_wrong: int = 0
    secrets_leaked: int = 0
    secret_places_checked: int = 0

    def add_sim(self, stats: dict[str, dict[str, int]]) -> None:
        """The simulator's fault counters (invalid records count as bad inputs instead)."""
        self.faults.update({k: v for k, v in stats.get("faults", {}).items() if k != "invalid"})

    def add_verdicts(self, verdicts: list[Verdict]) -> None:
        for v in verdicts:
            self.records_checked += v.expected_rows + v.rejected_expected
            self.records_lost += len(v.lost) + len(v.rejects_missing)
            self.records_duplicated += len(v.duplicated)
            self.records_wrong += len(v.wrong) + len(v.unexpected)


class FigureBook:
    """Figures kept apart per lake kind ("local", "s3")."""

    def __init__(self) -> None:
        self.by_kind: dict[str, Figures] = {"local": Figures(), "s3": Figures()}

    def __getitem__(self, kind: str) -> Figures:
        return self.by_kind[kind]


def faults_without(faults: Faults, **changes: Any) -> Faults:
    return replace(faults, **changes)
