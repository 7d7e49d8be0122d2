"""Half-open UTC time intervals and sets of them: what a stream has completed, what is left.

Backfill windows can finish out of order, so log state records the completed intervals rather
than a single high-water mark; planning a run is then "the asked range minus what is done".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

Interval = tuple[datetime, datetime]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and coalesce overlapping or touching intervals; drop empty ones."""
    out: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def subtract(span: Interval, done: Iterable[Interval]) -> list[Interval]:
    """The parts of `span` not covered by `done`, in order."""
    gaps: list[Interval] = []
    cursor, end = span
    for d_start, d_end in merge(done):
        if d_end <= cursor or d_start >= end:
            continue
        if d_start > cursor:
            gaps.append((cursor, d_start))
        cursor = max(cursor, d_end)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def split(span: Interval, size: timedelta) -> list[Interval]:
    """Cut `span` into consecutive pieces of at most `size`."""
    start, end = span
    pieces: list[Interval] = []
    while start < end:
        pieces.append((start, min(start + size, end)))
        start = pieces[-1][1]
    return pieces


def covered_until(done: Iterable[Interval]) -> datetime | None:
    """The end of the last completed interval (the stream's high-water mark), if any."""
    merged = merge(done)
    return merged[-1][1] if merged else None


def to_json(intervals: Iterable[Interval]) -> list[list[str]]:
    return [[s.isoformat(), e.isoformat()] for s, e in merge(intervals)]


def from_json(raw: Iterable[Iterable[str]]) -> list[Interval]:
    pairs = [tuple(datetime.fromisoformat(x) for x in item) for item in raw]
    return merge((p[0], p[1]) for p in pairs)
