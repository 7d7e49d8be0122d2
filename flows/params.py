"""The parameters of a sync or backfill run as one plain, serialisable model.

It is the Prefect flows' parameter schema (what a deployment or the UI may set) and what
every (project, stream) task is given, wherever it runs. It holds no secret: each process
reads the token from its own environment (`UBIOPS_API_TOKEN`) when it builds its `Settings`,
so the token never appears in flow or task parameters, the Prefect UI or a Dask message.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from extract.config import LogApi
from flows.core.settings import Settings, Stream, TaskRunnerName


class RunParams(BaseModel):
    """What a run was asked for; None keeps the value of the environment (or the default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: str | None = None
    """ISO 8601 or an age (`7d`); the first sync's start, or the backfill's."""
    until: str | None = None
    projects: list[str] | None = None
    streams: list[Stream] | None = None
    warehouse: str | None = None
    concurrency: int | None = Field(None, ge=1, le=64)
    rate_per_minute: int | None = Field(None, ge=1, le=100_000)
    api: LogApi | None = None
    task_runner: TaskRunnerName | None = None
    dask_workers: int | None = Field(None, ge=1, le=64)
    dask_address: str | None = None

    def settings(self) -> Settings:
        """This process's settings: its environment (and the token there) with these on top."""
        return Settings.from_overrides(**self.overrides())

    def overrides(self) -> dict[str, Any]:
        return self.model_dump(exclude={"since", "until"}, exclude_none=True)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, since: str | None = None, until: str | None = None
    ) -> RunParams:
        """The parameters that give `settings` again in a process with the same environment
        (the token excepted, which each process reads itself)."""
        return cls(
            since=since,
            until=until,
            projects=list(settings.projects) or None,
            streams=list(settings.streams),
            warehouse=settings.location.uri,
            concurrency=settings.concurrency,
            rate_per_minute=settings.rate_per_minute,
            api=settings.api,
            task_runner=settings.task_runner,
            dask_workers=settings.dask_workers,
            dask_address=settings.dask_address,
        )
