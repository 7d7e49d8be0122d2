"""The declared schema of every lake table: the single source of column names and types.

The writer (warehouse/), the DuckDB views and the README's table reference all read these
declarations, so a column added here appears everywhere at once and cannot drift.

Event tables (`logs`, `requests`, `audit_events`) are partitioned by project and by the UTC
day of one timestamp column; snapshot tables hold the current facts of each project and are
replaced per run. The partition keys `project` and `day` are part of each table's columns
(queries see them) but the writer stores them in the hive path, not inside the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")
EXTRA = "_extra"
EXTRACTED_AT = "_extracted_at"

MergePolicy = Literal["dedupe", "upsert", "replace"]
"""How a write meets what a partition already holds.

- dedupe: append-only records; a row whose key is already stored is dropped (logs, audit).
- upsert: mutable records; the newest `_extracted_at` per key wins (requests).
- replace: snapshot; the project's previous rows are replaced wholesale.
"""

LOG_LEVELS = ("info", "error")
REQUEST_STATUSES = (
    "pending",
    "processing",
    "completed",
    "failed",
    "cancelled_pending",
    "cancelled",
)
FINISHED_STATUSES = ("completed", "failed", "cancelled")
OBJECT_TYPES = ("deployment", "pipeline")
AUDIT_ACTIONS = ("create", "update", "delete", "info")


@dataclass(frozen=True)
class Column:
    """One column: its name, polars type, whether it may be null, and what it means."""

    name: str
    dtype: pl.DataType
    description: str
    nullable: bool = True


@dataclass(frozen=True)
class TableSchema:
    """A lake table: columns in order, the key that identifies a row, and how it is stored."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    merge: MergePolicy
    day_from: str | None = None
    """Timestamp column whose UTC day is the `day` partition (None: not day-partitioned)."""

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def polars_schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    @property
    def partition_keys(self) -> tuple[str, ...]:
        return ("project", "day") if self.day_from else ("project",)

    @property
    def file_columns(self) -> list[str]:
        """Columns stored inside the Parquet files (partition keys live in the path)."""
        return [n for n in self.names if n not in self.partition_keys]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def _c(name: str, dtype: pl.DataType, description: str, *, nullable: bool = True) -> Column:
    return Column(name, dtype, description, nullable)


_PROJECT = _c(
    "project", pl.String(), "Project the record belongs to (hive partition).", nullable=False
)
_DAY = _c("day", pl.Date(), "UTC day of the partition timestamp (hive partition).", nullable=False)
_EXTRA = _c(EXTRA, pl.String(), "JSON object of the fields the API sent that are not declared.")
_EXTRACTED = _c(
    EXTRACTED_AT, UTC_TS, "When ubiops-etl fetched this version of the record.", nullable=False
)

LOGS = TableSchema(
    name="logs",
    description="Log lines of deployments, pipelines, builds and requests "
    "(POST /projects/{p}/logs, or GET /projects/{p}/logs on the current API).",
    key=("id",),
    merge="dedupe",
    day_from="date",
    columns=(
        _PROJECT,
        _DAY,
        _c(
            "id",
            pl.String(),
            "Legacy API: the log id, 24 hex characters, sorts by creation. Current API: a "
            "32-hex content id of project, nanosecond timestamp, metadata, text and repeat count.",
            nullable=False,
        ),
        _c("date", UTC_TS, "When the log line was created (to the microsecond).", nullable=False),
        _c("log", pl.String(), "The log line, byte-exact.", nullable=False),
        _c("level", pl.Enum(LOG_LEVELS), "info or error."),
        _c("system", pl.Boolean(), "True when UbiOps wrote it, false for user code."),
        _c("deployment_name", pl.String(), "Deployment the log is related to."),
        _c("deployment_version", pl.String(), "Deployment version."),
        _c("deployment_version_revision_id", pl.String(), "Deployment version revision UUID."),
        _c("deployment_request_id", pl.String(), "Deployment request the log is related to."),
        _c("environment_name", pl.String(), "Environment the log is related to."),
        _c("environment_build_id", pl.String(), "Environment build UUID."),
        _c("pipeline_name", pl.String(), "Pipeline the log is related to."),
        _c("pipeline_version", pl.String(), "Pipeline version."),
        _c("pipeline_object_name", pl.String(), "Pipeline object."),
        _c("pipeline_request_id", pl.String(), "Pipeline request the log is related to."),
        _c("instance_id", pl.String(), "Instance that wrote the line (current API only)."),
        _c("process_id", pl.Int64(), "Process that wrote the line (current API only)."),
        _c("environment_tag", pl.String(), "Environment tag (current API only)."),
        _c("webhook_name", pl.String(), "Webhook the log is related to."),
        _EXTRA,
        _EXTRACTED,
    ),
)

REQUESTS = TableSchema(
    name="requests",
    description="Deployment and pipeline requests at their latest known state "
    "(GET /projects/{p}/requests).",
    key=("id",),
    merge="upsert",
    day_from="time_created",
    columns=(
        _PROJECT,
        _DAY,
        _c("id", pl.String(), "Request UUID.", nullable=False),
        _c("object_type", pl.Enum(OBJECT_TYPES), "deployment or pipeline.", nullable=False),
        _c("deployment", pl.String(), "Deployment the request was made to (deployment requests)."),
        _c("pipeline", pl.String(), "Pipeline the request was made to (pipeline requests)."),
        _c("version", pl.String(), "Version the request was made to."),
        _c("status", pl.Enum(REQUEST_STATUSES), "Status at extraction time.", nullable=False),
        _c("success", pl.Boolean(), "Whether it succeeded; null until finished."),
        _c("time_created", UTC_TS, "When the request was made.", nullable=False),
        _c("time_started", UTC_TS, "When processing started."),
        _c("time_completed", UTC_TS, "When processing completed."),
        _c("seconds_queued", pl.Float64(), "time_started - time_created, in seconds."),
        _c("seconds_running", pl.Float64(), "time_completed - time_started, in seconds."),
        _c("finished", pl.Boolean(), "Status is completed, failed or cancelled.", nullable=False),
        _EXTRA,
        _EXTRACTED,
    ),
)

AUDIT_EVENTS = TableSchema(
    name="audit_events",
    description="Who did what to which object (GET /projects/{p}/audit).",
    key=("id",),
    merge="dedupe",
    day_from="date",
    columns=(
        _PROJECT,
        _DAY,
        _c("id", pl.String(), "Audit event UUID.", nullable=False),
        _c("date", UTC_TS, "When the action was performed.", nullable=False),
        _c("action", pl.Enum(AUDIT_ACTIONS), "create, update, delete or info.", nullable=False),
        _c("user", pl.String(), "Email of the user who performed the action."),
        _c("event", pl.String(), "Description of the event."),
        _c("object_type", pl.String(), "Type of the object acted on."),
        _c("object_name", pl.String(), "Name of the object; empty if it was deleted since."),
        _EXTRA,
        _EXTRACTED,
    ),
)

PROJECTS = TableSchema(
    name="projects",
    description="Projects visible to the token, with their details (GET /projects/{p}).",
    key=("project",),
    merge="replace",
    columns=(
        _PROJECT,
        _c("id", pl.String(), "Project UUID.", nullable=False),
        _c("creation_date", UTC_TS, "When the project was created."),
        _c("advanced_permissions", pl.Boolean(), "Advanced permissions enabled."),
        _c("organization_name", pl.String(), "Organisation that owns the project."),
        _c("credits", pl.Float64(), "Credit limit; null means unlimited."),
        _c("suspended", pl.Boolean(), "Suspended for going over the credit limit."),
        _c("suspended_reason", pl.String(), "Why the project is suspended."),
        _c("cors_origins", pl.List(pl.String()), "Origins allowed to make requests."),
        _EXTRA,
        _EXTRACTED,
    ),
)

PROJECT_USERS = TableSchema(
    name="project_users",
    description="Users of each project (GET /projects/{p}/users).",
    key=("project", "id"),
    merge="replace",
    columns=(
        _PROJECT,
        _c("id", pl.String(), "User UUID.", nullable=False),
        _c("email", pl.String(), "Email address."),
        _c("name", pl.String(), "First name."),
        _c("surname", pl.String(), "Surname."),
        _EXTRA,
        _EXTRACTED,
    ),
)

ENVIRONMENT_VARIABLES = TableSchema(
    name="environment_variables",
    description="Project environment variables; secret values are never stored "
    "(GET /projects/{p}/environment-variables).",
    key=("project", "id"),
    merge="replace",
    columns=(
        _PROJECT,
        _c("id", pl.String(), "Variable UUID.", nullable=False),
        _c("name", pl.String(), "Variable name.", nullable=False),
        _c("value", pl.String(), "Value; always null for secret variables."),
        _c("secret", pl.Boolean(), "Whether the variable is secret.", nullable=False),
        _EXTRA,
        _EXTRACTED,
    ),
)

INSTANCE_TYPES = TableSchema(
    name="instance_types",
    description="Deployment instance types available to each project "
    "(GET /projects/{p}/instance-types).",
    key=("project", "id"),
    merge="replace",
    columns=(
        _PROJECT,
        _c("id", pl.String(), "Instance type UUID.", nullable=False),
        _c("name", pl.String(), "Instance type name."),
        _c("display_name", pl.String(), "Readable name."),
        _c("memory_allocation", pl.Int64(), "Memory (Mi)."),
        _c("cpu_allocation", pl.Float64(), "vCPU."),
        _c("gpu_allocation", pl.Int64(), "GPU cores."),
        _c("storage_allocation", pl.Int64(), "Maximum storage (MB)."),
        _c("credit_rate", pl.Float64(), "Credits per hour."),
        _EXTRA,
        _EXTRACTED,
    ),
)

QUOTAS = TableSchema(
    name="quotas",
    description="Resource quotas of each project (GET /projects/{p}/quotas).",
    key=("project", "resource"),
    merge="replace",
    columns=(
        _PROJECT,
        _c("resource", pl.String(), "Resource the quota limits.", nullable=False),
        _c("quota", pl.Int64(), "Limit of the resource in the project."),
        _EXTRA,
        _EXTRACTED,
    ),
)

RESOURCE_COUNTS = TableSchema(
    name="resource_counts",
    description="Number of resources defined in each project (GET /projects/{p}/resources).",
    key=("project",),
    merge="replace",
    columns=(
        _PROJECT,
        _c("deployments", pl.Int64(), "Deployments."),
        _c("deployment_versions", pl.Int64(), "Deployment versions."),
        _c("pipelines", pl.Int64(), "Pipelines."),
        _c("pipeline_versions", pl.Int64(), "Pipeline versions."),
        _c("buckets", pl.Int64(), "Buckets."),
        _c("environments", pl.Int64(), "Environments."),
        _EXTRA,
        _EXTRACTED,
    ),
)

CREDIT_USAGE = TableSchema(
    name="credit_usage",
    description="Credits used per day, for the project and per deployment "
    "(GET /projects/{p}/usage?interval=day).",
    key=("project", "scope", "deployment_id", "start_date"),
    merge="replace",
    columns=(
        _PROJECT,
        _c(
            "scope",
            pl.Enum(("project", "deployment", "deleted_deployments")),
            "project total, one deployment, or deleted deployments.",
            nullable=False,
        ),
        _c("deployment_id", pl.String(), "Deployment UUID (scope deployment)."),
        _c("deployment_name", pl.String(), "Deployment name (scope deployment)."),
        _c("start_date", UTC_TS, "Start of the interval.", nullable=False),
        _c("end_date", UTC_TS, "End of the interval."),
        _c("value", pl.Float64(), "Credits used in the interval."),
        _EXTRA,
        _EXTRACTED,
    ),
)

EVENT_TABLES: tuple[TableSchema, ...] = (LOGS, REQUESTS, AUDIT_EVENTS)
SNAPSHOT_TABLES: tuple[TableSchema, ...] = (
    PROJECTS,
    PROJECT_USERS,
    ENVIRONMENT_VARIABLES,
    INSTANCE_TYPES,
    QUOTAS,
    RESOURCE_COUNTS,
    CREDIT_USAGE,
)
SCHEMAS: dict[str, TableSchema] = {s.name: s for s in EVENT_TABLES + SNAPSHOT_TABLES}

REJECTS_SCHEMA = pl.Schema(
    {
        "table": pl.String(),
        "project": pl.String(),
        "reason": pl.String(),
        "raw": pl.String(),
        EXTRACTED_AT: UTC_TS,
    }
)
"""Records that could not be typed: the raw JSON as received and why it was refused."""
