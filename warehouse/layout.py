"""Where things live in the lake: names validated, tables mapped to their Delta folders.

`<root>/<table>/` is a Delta table partitioned by `project` (and `day` for event tables);
`<root>/_rejects/<table>/` is the rejects table of each source table, partitioned by
`project`; `<root>/_state/` holds cursors, leases and the run ledger. Names that become path
segments are checked here, once more than upstream, because a bad name is the one way a
write could land outside its partition.
"""

from __future__ import annotations

import re

from transform.schemas import EVENT_TABLES, SCHEMAS, TableSchema
from warehouse.errors import InvalidName

PROJECT_RE = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
STREAM_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
STATE_DIR = "_state"
REJECTS_DIR = "_rejects"
DELTA_LOG = "_delta_log"

STREAM_TABLES: dict[str, tuple[str, ...]] = {
    "logs": ("logs",),
    "requests": ("requests",),
    "audit_events": ("audit_events",),
    "snapshots": tuple(name for name in SCHEMAS if SCHEMAS[name] not in EVENT_TABLES),
}
"""The tables each stream writes (each also writes its rejects)."""


def validate_project(project: str) -> str:
    """Return `project` if it is lowercase letters, digits and dashes starting with a letter."""
    if not isinstance(project, str) or not PROJECT_RE.fullmatch(project):
        raise InvalidName(
            f"project name {project!r} is not lowercase letters, digits and dashes "
            "starting with a letter (at most 64 characters)"
        )
    return project


def validate_stream(name: str) -> str:
    """Return a stream or table name if it is a safe single path segment."""
    if not isinstance(name, str) or not STREAM_RE.fullmatch(name):
        raise InvalidName(f"name {name!r} is not lowercase letters, digits, '-' or '_'")
    return name


def table_schema(table: str) -> TableSchema:
    """The declared schema of `table`, or InvalidName for a table the lake does not know."""
    try:
        return SCHEMAS[table]
    except KeyError:
        raise InvalidName(f"unknown table {table!r}; known: {', '.join(SCHEMAS)}") from None


def table_key(table: str) -> str:
    """Folder of a data table under the root."""
    return table_schema(table).name


def rejects_key(table: str) -> str:
    """Folder of the rejects table of `table` under the root."""
    return f"{REJECTS_DIR}/{validate_stream(table)}"


def partition_prefix(folder: str, project: str) -> str:
    """Folder of one project's partitions inside a table folder."""
    return f"{folder}/project={validate_project(project)}"


def state_key(project: str, stream: str) -> str:
    """Key of the cursor document of one (project, stream)."""
    return f"{STATE_DIR}/streams/{validate_project(project)}/{validate_stream(stream)}.json"


def lease_name(project: str, stream: str) -> str:
    """Name of the lease that guards writes of one (project, stream)."""
    return f"{validate_project(project)}/{validate_stream(stream)}"
