"""Configuration, read once at the entry point into a frozen object that everything else is given.

Every value has an environment variable; CLI flags override them. Nothing below `flows/` reads
the environment: extract, transform and warehouse receive plain values from here.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from extract.config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_HOST,
    DEFAULT_LOG_API,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_RETRY_S,
    DEFAULT_RATE_PER_MINUTE,
    DEFAULT_READ_TIMEOUT_S,
    LOG_LIMIT_CEILING,
    LOG_LIMIT_FLOOR,
    LogApi,
)
from flows.core.errors import EXIT_USAGE, UserError
from flows.core.timeparse import parse_age
from warehouse import LakeLocation

Stream = Literal["logs", "requests", "audit_events", "snapshots"]
TaskRunnerName = Literal["local", "dask"]
ALL_STREAMS: tuple[Stream, ...] = ("logs", "requests", "audit_events", "snapshots")
DEFAULT_WAREHOUSE = ".ubiops-etl/warehouse"


class Settings(BaseSettings):
    """Everything a run needs to know, validated once. The token is a `SecretStr`."""

    model_config = SettingsConfigDict(
        env_prefix="UBIOPS_ETL_", frozen=True, extra="forbid", populate_by_name=True
    )

    api_host: str = Field(
        DEFAULT_HOST, validation_alias=AliasChoices("api_host", "UBIOPS_API_HOST")
    )
    api_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("api_token", "UBIOPS_API_TOKEN")
    )
    warehouse: str = DEFAULT_WAREHOUSE
    """A local path or an object-store URL (s3://, gs://, az://, abfss://)."""
    bi_file: str | None = None
    """Where to write the BI DuckDB file (default: `<warehouse>/ubiops.duckdb` when local)."""
    report_file: str | None = None
    """Opt-in: every sync and backfill also writes the report of the last 30 days here (and,
    as a Prefect flow run, attaches a markdown artifact naming it). Default: no report."""
    keep_removed: timedelta = timedelta(0)
    """How long files that a commit replaced are kept for time travel before the end of a
    run deletes them (0: at once, so plain Parquet readers see each record once)."""
    lease_ttl: timedelta = Field(timedelta(minutes=5), ge=timedelta(seconds=10))
    prefect: bool = False
    """Run sync, backfill, compact and demo as Prefect flow runs even without a configured
    Prefect API (Prefect then starts a temporary local server)."""
    task_runner: TaskRunnerName = "local"
    """Where the (project, stream) tasks of a run execute: `local` (in this process,
    concurrently) or `dask` (worker processes of a Dask cluster; implies a Prefect flow run)."""
    dask_workers: int = Field(2, ge=1, le=64)
    """Worker processes of the temporary local Dask cluster (when no `dask_address`)."""
    dask_address: str | None = None
    """Scheduler of an existing Dask cluster (`tcp://host:8786`) instead of a local one."""
    projects: Annotated[tuple[str, ...], NoDecode] = ()
    streams: Annotated[tuple[Stream, ...], NoDecode] = ALL_STREAMS
    # The client's defaults and bounds (extract.config), so the two can never disagree.
    rate_per_minute: int | None = Field(DEFAULT_RATE_PER_MINUTE, ge=1, le=100_000)
    """An explicit cap per endpoint group; None: follow the server's rate-limit headers."""
    concurrency: int = Field(DEFAULT_CONCURRENCY, ge=1, le=64)
    page_size: int = Field(LOG_LIMIT_CEILING, ge=LOG_LIMIT_FLOOR, le=LOG_LIMIT_CEILING)
    api: LogApi = DEFAULT_LOG_API
    """Log endpoint: auto (POST /logs while the server has it, else GET /logs), legacy, current."""
    batch_rows: int = Field(50_000, ge=100, le=10_000_000)
    """Rows buffered per table before a write and a cursor commit: memory and the work a
    killed run repeats both follow it."""
    initial_history: timedelta = timedelta(days=7)
    lookback: timedelta = timedelta(hours=1)
    request_retention: timedelta = timedelta(days=7)
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1, le=100)
    max_retry_seconds: float = Field(DEFAULT_MAX_RETRY_S, gt=0)
    timeout_seconds: float = Field(DEFAULT_READ_TIMEOUT_S, gt=0)

    @field_validator("api_host")
    @classmethod
    def _host_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"UBIOPS_API_HOST must start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    @field_validator("warehouse", mode="before")
    @classmethod
    def _warehouse_path_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, os.PathLike) else value

    @field_validator("warehouse")
    @classmethod
    def _warehouse_is_a_location(cls, value: str) -> str:
        LakeLocation.parse(value, os.environ)  # InvalidLocation (a ValueError) says what to fix
        return value

    @property
    def location(self) -> LakeLocation:
        """The lake root, parsed; the endpoint variables come from the environment."""
        return LakeLocation.parse(self.warehouse, os.environ)

    @field_validator(
        "initial_history",
        "lookback",
        "request_retention",
        "keep_removed",
        "lease_ttl",
        mode="before",
    )
    @classmethod
    def _parse_age(cls, value: object) -> object:
        # Accept the CLI's short ages (`7d`, `90m`), plain seconds (`300`) and ISO 8601
        # durations (`PT5M`).
        if isinstance(value, str) and value.strip().isdigit():
            return timedelta(seconds=int(value))
        if isinstance(value, str) and value and value[-1].lower() in "smhdw" and value[0].isdigit():
            return parse_age(value)
        return value

    @field_validator("projects", "streams", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return value

    @classmethod
    def from_overrides(cls, **overrides: Any) -> Settings:
        """Settings from the environment with the given values on top; None (a flag that was
        not given) keeps the environment's value, and list values may be comma-separated."""
        given = {k: v for k, v in overrides.items() if v is not None and v not in ([], ())}
        for key in ("projects", "streams"):
            if key in given:
                given[key] = tuple(x for item in given[key] for x in str(item).split(",") if x)
        return cls(**given)

    def require_token(self) -> SecretStr:
        """The token, or a one-line error that says which variable to set."""
        if self.api_token is None or not self.api_token.get_secret_value().strip():
            raise MissingToken(
                f"no API token for {self.api_host}: set UBIOPS_API_TOKEN "
                "(an API token from the UbiOps console, e.g. 'Token abc...')"
            )
        return self.api_token


class MissingToken(UserError, ValueError):
    """No token was configured for a command that calls the API."""

    exit_code = EXIT_USAGE
