"""Where things live in the lake: names validated, partition keys turned into paths.

`<table>/project=<p>/day=<YYYY-MM-DD>/<file>.parquet` for event tables,
`<table>/project=<p>/<file>.parquet` for snapshots, `_rejects/<table>/...`, `_state/...`.
Names that become path segments are checked here, once more than upstream, because a bad name
is the one way a write could land outside the root.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
import uuid

from transform.schemas import SCHEMAS, TableSchema
from warehouse.errors import InvalidName

PROJECT_RE = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
STREAM_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
STATE_DIR = "_state"
REJECTS_DIR = "_rejects"
JOURNAL_DIR = f"{STATE_DIR}/journal"
DATA_SUFFIX = ".parquet"

_sequence = itertools.count()


def validate_project(project: str) -> str:
    """Return `project` if it is lowercase letters, digits and dashes starting with a letter."""
    if not isinstance(project, str) or not PROJECT_RE.fullmatch(project):
        raise InvalidName(
            f"project name {project!r} is not lowercase letters, digits and dashes "
            "starting with a letter (at most 64 characters)"
        )
    return project


def validate_stream(name: str) -> str:
    """Return a stream or lock name if it is a safe single path segment."""
    if not isinstance(name, str) or not STREAM_RE.fullmatch(name):
        raise InvalidName(f"name {name!r} is not lowercase letters, digits, '-' or '_'")
    return name


def table_schema(table: str) -> TableSchema:
    """The declared schema of `table`, or InvalidName for a table the lake does not know."""
    try:
        return SCHEMAS[table]
    except KeyError:
        raise InvalidName(f"unknown table {table!r}; known: {', '.join(SCHEMAS)}") from None


def partition_dir(schema: TableSchema, project: str, day: dt.date | None) -> str:
    """The folder key of one partition of `schema`."""
    folder = f"{schema.name}/project={validate_project(project)}"
    if schema.day_from is None:
        return folder
    if day is None:
        raise InvalidName(f"{schema.name} is day-partitioned; a partition needs a day")
    return f"{folder}/day={day.isoformat()}"


def new_file_name() -> str:
    """A data file name that sorts by creation (time, then process sequence) and never clashes.

    Snapshot views pick the newest file per project by name, so the order matters there.
    """
    return f"{time.time_ns():020d}-{next(_sequence):06d}-{uuid.uuid4().hex[:12]}{DATA_SUFFIX}"


def is_data_file(key: str) -> bool:
    """Whether a key is a committed data file (temp files never end in `.parquet`)."""
    return key.endswith(DATA_SUFFIX)


def state_key(project: str, stream: str) -> str:
    """Key of the cursor document of one (project, stream)."""
    return f"{STATE_DIR}/streams/{validate_project(project)}/{validate_stream(stream)}.json"


def rejects_key(table: str) -> str:
    """Key of a new append-only rejects file of `table`."""
    return f"{REJECTS_DIR}/{validate_stream(table)}/{new_file_name()}"
