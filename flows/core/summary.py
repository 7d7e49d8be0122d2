"""What a run did: per (project, stream) results and the run's totals, as plain data.

The same summary goes to the lake's run ledger, the Prefect table artifact and the CLI table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

BUSY = "every project and stream asked for is being written by another run"


@dataclass
class StreamResult:
    """The outcome of one (project, stream) in one run."""

    project: str
    stream: str
    ok: bool = True
    rows_in: int = 0
    rows_written: int = 0
    rejects: int = 0
    pages: int = 0
    windows_done: int = 0
    windows_total: int = 0
    covered_until: datetime | None = None
    error: str | None = None
    busy: bool = False
    """Another live run holds this (project, stream)'s lease: skipped, not failed."""

    def lag_seconds(self, now: datetime) -> float | None:
        """How far the stream's committed data lags behind `now`."""
        if self.covered_until is None:
            return None
        return max(0.0, (now - self.covered_until).total_seconds())


@dataclass
class RunSummary:
    """Totals of a sync, backfill or compaction run."""

    run_id: str
    kind: str
    started_at: datetime
    finished_at: datetime | None = None
    results: list[StreamResult] = field(default_factory=list)
    skipped_projects: dict[str, str] = field(default_factory=dict)
    api_calls: int = 0
    retries: int = 0
    throttled: int = 0
    log_api: str | None = None
    """The log endpoint the run used: legacy (POST /logs), current (GET /logs) or None."""
    error: str | None = None
    engine: str = "direct"
    """"direct" (the CLI ran the run core itself) or "prefect" (a Prefect flow run)."""
    report: str | None = None
    """Where the opt-in report was written, if it was."""
    report_markdown: str | None = None
    """A markdown summary of that report, for a Prefect artifact."""

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and not self.skipped_projects
            and all(r.ok or r.busy for r in self.results)
        )

    @property
    def all_busy(self) -> bool:
        """Nothing could run: every (project, stream) is being written by another run."""
        return bool(self.results) and all(r.busy for r in self.results)

    @property
    def rows_written(self) -> int:
        return sum(r.rows_written for r in self.results)

    @property
    def rejects(self) -> int:
        return sum(r.rejects for r in self.results)

    @property
    def pages(self) -> int:
        return sum(r.pages for r in self.results)

    @property
    def duration_s(self) -> float:
        end = self.finished_at or self.started_at
        return (end - self.started_at).total_seconds()

    def to_ledger(self) -> dict[str, Any]:
        """A JSON-ready record for the run ledger (no secrets: none are ever held here)."""
        end = self.finished_at or self.started_at
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "engine": self.engine,
            "ok": self.ok,
            "started_at": self.started_at.isoformat(),
            "finished_at": end.isoformat(),
            "duration_s": round(self.duration_s, 3),
            "rows_written": self.rows_written,
            "rejects": self.rejects,
            "pages": self.pages,
            "api_calls": self.api_calls,
            "retries": self.retries,
            "throttled": self.throttled,
            "log_api": self.log_api,
            "error": self.error,
            "skipped_projects": self.skipped_projects,
            "streams": [
                {
                    **{k: v for k, v in asdict(r).items() if k != "covered_until"},
                    "covered_until": r.covered_until.isoformat() if r.covered_until else None,
                    "lag_s": r.lag_seconds(end),
                }
                for r in self.results
            ],
        }

    def outcome(self) -> dict[str, Any]:
        """What the run's caller is told: the ledger record, with `busy` and why when every
        (project, stream) was held by another run, and the report written, if any."""
        outcome = self.to_ledger()
        if self.all_busy:
            outcome |= {"busy": True, "error": BUSY}
        if self.report is not None:
            outcome |= {"report": self.report, "report_markdown": self.report_markdown}
        return outcome


def table_rows(ledger: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (project, stream) of a run's ledger record, for the Prefect artifact."""
    return [
        {
            "project": s["project"],
            "stream": s["stream"],
            "status": "ok" if s["ok"] else "busy" if s.get("busy") else "FAILED",
            "rows_written": s["rows_written"],
            "rows_seen": s["rows_in"],
            "rejects": s["rejects"],
            "pages": s["pages"],
            "lag": _human(s["lag_s"]),
            "error": s["error"] or "",
        }
        for s in ledger["streams"]
    ]


def _human(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"
