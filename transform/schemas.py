"""The declared schema of every lake table: the single source of column names and types.

The writer (warehouse/), the DuckDB views and the README's table reference all read these
declarations, so a column added here appears everywhere at once and cannot drift.

Types are declared as plain data (`ColumnType`), not as polars types: the read-only
commands (`status`, `sql`) build their views from these schemas without importing polars,
which would cost them a sixth of a second. `ColumnType.polars` gives the polars type where
frames are built (transform, the writer).

Event tables (`logs`, `requests`, `audit_events`) are partitioned by project and by the UTC
day of one timestamp column; snapshot tables hold the current facts of each project and are
replaced per run. The partition keys `project` and `day` are part of each table's columns
(queries see them) but the writer stores them in the hive path, not inside the files.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import polars as pl

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


Kind = Literal["string", "int64", "float64", "boolean", "date", "timestamp", "enum", "list"]


@dataclass(frozen=True)
class ColumnType:
    """A declared column type: `kind`, an enum's `categories`, a list's `inner` type.
    Timestamps are microseconds in UTC."""

    kind: Kind
    categories: tuple[str, ...] = ()
    inner: ColumnType | None = None

    @property
    def polars(self) -> pl.DataType:
        """The polars type of this column."""
        return _polars_type(self)

    @property
    def name(self) -> str:
        """The type as the README's table reference spells it."""
        if self.kind == "enum":
            return "enum(" + ", ".join(self.categories) + ")"
        if self.kind == "timestamp":
            return "timestamp[us, UTC]"
        if self.kind == "list":
            return f"list[{_inner(self).name}]"
        return self.kind


def _inner(list_type: ColumnType) -> ColumnType:
    if list_type.inner is None:
        raise TypeError(f"{list_type} declares no inner type")
    return list_type.inner


@functools.cache
def _polars_type(declared: ColumnType) -> pl.DataType:
    import polars as pl  # only where frames are built: `status` and `sql` never get here

    simple: dict[str, pl.DataType] = {
        "string": pl.String(),
        "int64": pl.Int64(),
        "float64": pl.Float64(),
        "boolean": pl.Boolean(),
        "date": pl.Date(),
        "timestamp": pl.Datetime("us", "UTC"),
    }
    if declared.kind == "enum":
        return pl.Enum(declared.categories)
    if declared.kind == "list":
        return pl.List(_inner(declared).polars)
    return simple[declared.kind]


STRING = ColumnType("string")
INT64 = ColumnType("int64")
FLOAT64 = ColumnType("float64")
BOOLEAN = ColumnType("boolean")
DATE = ColumnType("date")
TIMESTAMP = ColumnType("timestamp")


def enum(categories: tuple[str, ...]) -> ColumnType:
    return ColumnType("enum", categories=categories)


def list_of(inner: ColumnType) -> ColumnType:
    return ColumnType("list", inner=inner)


@dataclass(frozen=True)
class Column:
    """One column: its name, declared type, whether it may be null, and what it means."""

    name: str
    type: ColumnType
    description: str
    nullable: bool = True
    distinct: bool = False
    """Its values rarely repeat (ids, free text, instants): not worth a dictionary."""

    @property
    def dtype(self) -> pl.DataType:
        """The column's polars type."""
        return self.type.polars


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
    def types(self) -> dict[str, ColumnType]:
        return {c.name: c.type for c in self.columns}

    @property
    def polars_schema(self) -> pl.Schema:
        import polars as pl

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


def _c(
    name: str,
    declared: ColumnType,
    description: str,
    *,
    nullable: bool = True,
    distinct: bool = False,
) -> Column:
    return Column(name, declared, description, nullable, distinct)


_PROJECT = _c("project", STRING, "Project the record belongs to (hive partition).", nullable=False)
_DAY = _c("day", DATE, "UTC day of the partition timestamp (hive partition).", nullable=False)
_EXTRA = _c(EXTRA, STRING, "JSON object of the fields the API sent that are not declared.")
_EXTRACTED = _c(
    EXTRACTED_AT, TIMESTAMP, "When ubiops-etl fetched this version of the record.", nullable=False
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
            STRING,
            "Legacy API: the log id, 24 hex characters, sorts by creation. Current API: a "
            "32-hex content id of project, nanosecond timestamp, metadata, text and repeat count.",
            nullable=False,
            distinct=True,
        ),
        _c(
            "date",
            TIMESTAMP,
            "When the log line was created (to the microsecond).",
            nullable=False,
            distinct=True,
        ),
        _c("log", STRING, "The log line, byte-exact.", nullable=False, distinct=True),
        _c("level", enum(LOG_LEVELS), "info or error."),
        _c("system", BOOLEAN, "True when UbiOps wrote it, false for user code."),
        _c("deployment_name", STRING, "Deployment the log is related to."),
        _c("deployment_version", STRING, "Deployment version."),
        _c("deployment_version_revision_id", STRING, "Deployment version revision UUID."),
        _c(
            "deployment_request_id",
            STRING,
            "Deployment request the log is related to.",
            distinct=True,
        ),
        _c("environment_name", STRING, "Environment the log is related to."),
        _c("environment_build_id", STRING, "Environment build UUID."),
        _c("pipeline_name", STRING, "Pipeline the log is related to."),
        _c("pipeline_version", STRING, "Pipeline version."),
        _c("pipeline_object_name", STRING, "Pipeline object."),
        _c(
            "pipeline_request_id",
            STRING,
            "Pipeline request the log is related to.",
            distinct=True,
        ),
        _c("instance_id", STRING, "Instance that wrote the line (current API only)."),
        _c("process_id", INT64, "Process that wrote the line (current API only)."),
        _c("environment_tag", STRING, "Environment tag (current API only)."),
        _c("webhook_name", STRING, "Webhook the log is related to."),
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
        _c("id", STRING, "Request UUID.", nullable=False, distinct=True),
        _c("object_type", enum(OBJECT_TYPES), "deployment or pipeline.", nullable=False),
        _c("deployment", STRING, "Deployment the request was made to (deployment requests)."),
        _c("pipeline", STRING, "Pipeline the request was made to (pipeline requests)."),
        _c("version", STRING, "Version the request was made to."),
        _c("status", enum(REQUEST_STATUSES), "Status at extraction time.", nullable=False),
        _c("success", BOOLEAN, "Whether it succeeded; null until finished."),
        _c("time_created", TIMESTAMP, "When the request was made.", nullable=False, distinct=True),
        _c("time_started", TIMESTAMP, "When processing started.", distinct=True),
        _c("time_completed", TIMESTAMP, "When processing completed.", distinct=True),
        _c("seconds_queued", FLOAT64, "time_started - time_created, in seconds.", distinct=True),
        _c(
            "seconds_running",
            FLOAT64,
            "time_completed - time_started, in seconds.",
            distinct=True,
        ),
        _c("finished", BOOLEAN, "Status is completed, failed or cancelled.", nullable=False),
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
        _c("id", STRING, "Audit event UUID.", nullable=False, distinct=True),
        _c("date", TIMESTAMP, "When the action was performed.", nullable=False, distinct=True),
        _c("action", enum(AUDIT_ACTIONS), "create, update, delete or info.", nullable=False),
        _c("user", STRING, "Email of the user who performed the action."),
        _c("event", STRING, "Description of the event."),
        _c("object_type", STRING, "Type of the object acted on."),
        _c("object_name", STRING, "Name of the object; empty if it was deleted since."),
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
        _c("id", STRING, "Project UUID.", nullable=False),
        _c("creation_date", TIMESTAMP, "When the project was created."),
        _c("advanced_permissions", BOOLEAN, "Advanced permissions enabled."),
        _c("organization_name", STRING, "Organisation that owns the project."),
        _c("credits", FLOAT64, "Credit limit; null means unlimited."),
        _c("suspended", BOOLEAN, "Suspended for going over the credit limit."),
        _c("suspended_reason", STRING, "Why the project is suspended."),
        _c("cors_origins", list_of(STRING), "Origins allowed to make requests."),
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
        _c("id", STRING, "User UUID.", nullable=False),
        _c("email", STRING, "Email address."),
        _c("name", STRING, "First name."),
        _c("surname", STRING, "Surname."),
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
        _c("id", STRING, "Variable UUID.", nullable=False),
        _c("name", STRING, "Variable name.", nullable=False),
        _c("value", STRING, "Value; always null for secret variables."),
        _c("secret", BOOLEAN, "Whether the variable is secret.", nullable=False),
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
        _c("id", STRING, "Instance type UUID.", nullable=False),
        _c("name", STRING, "Instance type name."),
        _c("display_name", STRING, "Readable name."),
        _c("memory_allocation", INT64, "Memory (Mi)."),
        _c("cpu_allocation", FLOAT64, "vCPU."),
        _c("gpu_allocation", INT64, "GPU cores."),
        _c("storage_allocation", INT64, "Maximum storage (MB)."),
        _c("credit_rate", FLOAT64, "Credits per hour."),
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
        _c("resource", STRING, "Resource the quota limits.", nullable=False),
        _c("quota", INT64, "Limit of the resource in the project."),
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
        _c("deployments", INT64, "Deployments."),
        _c("deployment_versions", INT64, "Deployment versions."),
        _c("pipelines", INT64, "Pipelines."),
        _c("pipeline_versions", INT64, "Pipeline versions."),
        _c("buckets", INT64, "Buckets."),
        _c("environments", INT64, "Environments."),
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
            enum(("project", "deployment", "deleted_deployments")),
            "project total, one deployment, or deleted deployments.",
            nullable=False,
        ),
        _c("deployment_id", STRING, "Deployment UUID (scope deployment)."),
        _c("deployment_name", STRING, "Deployment name (scope deployment)."),
        _c("start_date", TIMESTAMP, "Start of the interval.", nullable=False),
        _c("end_date", TIMESTAMP, "End of the interval."),
        _c("value", FLOAT64, "Credits used in the interval."),
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

REJECT_TYPES: dict[str, ColumnType] = {
    "table": STRING,
    "project": STRING,
    "reason": STRING,
    "raw": STRING,
    EXTRACTED_AT: TIMESTAMP,
}
"""Records that could not be typed: the raw JSON as received and why it was refused."""


def rejects_schema() -> pl.Schema:
    """REJECT_TYPES as the polars schema of every rejects frame."""
    import polars as pl

    return pl.Schema({name: declared.polars for name, declared in REJECT_TYPES.items()})
