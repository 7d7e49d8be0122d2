"""Log lines of the current API (`GET /projects/{p}/logs`): identity and the lake's shape.

The current endpoint sends no ids: `timestamp` (nanoseconds), `log` and `metadata{...}`, and
many lines may share one nanosecond. Each line gets a content id, the same on every run: a
digest of the project, the nanosecond timestamp, the metadata, the text and an occurrence
counter for exact repeats at one nanosecond. Lines become records of the shape the legacy
endpoint sends (`id`, `date`, `log` and the metadata fields at the top level), so one
normalisation serves both.

Paging resumes at a timestamp with the lines already taken there; they are recognised by a
boundary digest of (microsecond, text, source), which a line read through either endpoint
yields alike, so a window begun on the legacy endpoint continues on the current one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from extract.timeutil import as_utc

Record = dict[str, Any]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NS_PER_US = 1_000
NS_PER_S = 1_000_000_000
# The metadata fields of client 4.15's `LogMetadata`: a log line's source.
SOURCE_FIELDS = (
    "deployment_name",
    "deployment_version",
    "deployment_version_revision_id",
    "instance_id",
    "process_id",
    "environment_name",
    "environment_tag",
    "environment_build_id",
    "pipeline_name",
    "pipeline_version",
    "pipeline_object_name",
    "deployment_request_id",
    "pipeline_request_id",
    "webhook_name",
    "system",
    "level",
)
# The source fields both endpoints send (API.md's log fields): what recognises a line read
# through either of them at a paging boundary.
CURRENT_ONLY_FIELDS = ("instance_id", "process_id", "environment_tag", "webhook_name")
SHARED_SOURCE_FIELDS = tuple(f for f in SOURCE_FIELDS if f not in CURRENT_ONLY_FIELDS)
CONTENT_ID_HEX = 32


def datetime_to_ns(value: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime (microsecond precision)."""
    delta = as_utc(value) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * NS_PER_US


def format_ns(ns: int) -> str:
    """ISO 8601 with all nine fractional digits and `Z`: no precision lost on the wire."""
    seconds, fraction = divmod(ns, NS_PER_S)
    return f"{_second_text(seconds)}.{fraction:09d}Z"


@lru_cache(maxsize=1024)
def _second_text(seconds: int) -> str:
    return (EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


def parse_ns(text: str) -> int:
    """Nanoseconds from an ISO 8601 string with 0-9 fractional digits (naive means UTC)."""
    value = text.strip().replace("z", "Z")
    body, fraction, zone = value, "", ""
    if "." in value[19:20]:
        digits_end = 20
        while digits_end < len(value) and value[digits_end].isdigit():
            digits_end += 1
        body, fraction, zone = value[:19], value[20:digits_end], value[digits_end:]
    else:
        body, zone = value[:19], value[19:]
    parsed = datetime.fromisoformat(body + (zone.replace("Z", "+00:00") or "+00:00"))
    return datetime_to_ns(parsed) + int((fraction + "000000000")[:9] or 0)


def source_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The non-null source fields both endpoints send, of a record (legacy shape) or of a
    metadata object."""
    return {key: record[key] for key in SHARED_SOURCE_FIELDS if record.get(key) is not None}


def boundary_digest(ts_ns: int, log: object, source: Mapping[str, Any]) -> str:
    """What recognises a line taken at a paging boundary: microsecond, text and source:
    the digest of `json.dumps([microsecond, log, source], sort_keys=True, default=str)`."""
    return _boundary_digest(ts_ns // NS_PER_US, log, source_json(source))


def boundary_digest_of(ts_ns: int, log: object, source: str) -> str:
    """`boundary_digest` given the source's `source_json`."""
    return _boundary_digest(ts_ns // NS_PER_US, log, source)


def source_json(source: Mapping[str, Any]) -> str:
    """The source's JSON as `boundary_digest` writes it."""
    return _JSON(dict(source))


def _boundary_digest(micros: int, log: object, source: str) -> str:
    # The text `json.dumps` writes for the list, written piece by piece.
    text = f"[{micros}, {_JSON(log)}, {source}]"
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


# `json.dumps(value, sort_keys=True, default=str)` without building an encoder per call.
_JSON = json.JSONEncoder(sort_keys=True, default=str).encode


def boundary_digests_of(
    micros: int, logs: Sequence[object], sources: Mapping[str, Sequence[Any]]
) -> tuple[str, ...]:
    """`boundary_digest` of lines at one microsecond given as columns: their texts, and the
    values of source fields (a subset of `SHARED_SOURCE_FIELDS`) by field, line by line.

    Each column holds one type (text, or booleans), so equal rows have equal JSON (a tuple
    key would not tell `True` from `1`): the lines of one source share it.
    """
    names = list(sources)
    by_row: dict[tuple[Any, ...], str] = {}
    digests = []
    for log, row in zip(logs, zip(*sources.values(), strict=True), strict=True):
        source_json = by_row.get(row)
        if source_json is None:
            items = {
                name: value for name, value in zip(names, row, strict=True) if value is not None
            }
            source_json = by_row[row] = _JSON(items)
        digests.append(_boundary_digest(micros, log, source_json))
    return tuple(digests)


def content_id(project: str, ts_ns: int, log: object, metadata: Any, occurrence: int) -> str:
    """The line's id: stable across runs, distinct for exact repeats at one nanosecond."""
    return content_id_of(project, ts_ns, log, canonical_json(metadata), occurrence)


def content_id_of(
    project: str, ts_ns: int, log: object, metadata_json: str, occurrence: int
) -> str:
    """`content_id` given the metadata's `canonical_json`."""
    text = "\x1f".join((project, str(ts_ns), metadata_json, json.dumps(log), str(occurrence)))
    return hashlib.blake2b(text.encode(), digest_size=CONTENT_ID_HEX // 2).hexdigest()


@lru_cache(maxsize=4096)
def _canonical_items(items: tuple[tuple[str, type, Any], ...]) -> str:
    return json.dumps({key: value for key, _, value in items}, sort_keys=True, default=str)


def canonical_json(metadata: Any) -> str:
    """Metadata as sorted JSON; the lines of one source share it, so it is cached (by value
    and type: `1`, `1.0` and `True` are equal keys of a cache, yet differ in JSON)."""
    if isinstance(metadata, dict):
        try:
            return _canonical_items(tuple(sorted((k, type(v), v) for k, v in metadata.items())))
        except TypeError:  # an unhashable (nested) value
            pass
    return json.dumps(metadata, sort_keys=True, default=str)


def as_record(project: str, item: Mapping[str, Any], ts_ns: int, occurrence: int) -> Record:
    """One current-API line in the lake's record shape (metadata fields at the top level).

    Unknown item fields stay (the lake keeps them in `_extra`); a metadata field that would
    shadow `id`, `date` or `log` is left inside `metadata` instead.
    """
    metadata = item.get("metadata")
    record: Record = {
        key: value
        for key, value in item.items()
        if key not in ("timestamp", "timestamp_str", "metadata")
    }
    if isinstance(metadata, Mapping):
        clashing = {k: v for k, v in metadata.items() if k in ("id", "date", "log")}
        record.update({k: v for k, v in metadata.items() if k not in clashing})
        if clashing:
            record["metadata"] = clashing
    elif metadata is not None:
        record["metadata"] = metadata
    record["id"] = content_id(project, ts_ns, item.get("log"), metadata, occurrence)
    record["date"] = format_ns(ts_ns)
    return record


def item_timestamp(item: Mapping[str, Any]) -> int | None:
    """The item's nanosecond timestamp, or None when it has no usable one."""
    value = item.get("timestamp")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    text = item.get("timestamp_str")
    if isinstance(text, str):
        try:
            return parse_ns(text)
        except ValueError:
            return None
    return None
