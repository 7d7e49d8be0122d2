"""Columnar log storage of one project, ordered by (date, id), queried by bisection.

A million logs must fit and generate fast, so a log is a handful of array cells: its date in
ns, a source (the shared metadata of a request or build), a text template and flag bits. The
JSON record is rendered only for the page being served. Sequence numbers follow insertion
order and ids embed (creation second, project code, sequence), so, like MongoDB ObjectIds,
ids sort by creation second and then by insertion, which within one second need not be the
order of their dates. The API order is (date, id).
"""

from __future__ import annotations

import bisect
import json
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.logtext import render_text
from simulator.timefmt import NS_PER_S, format_log_date

SYSTEM = 1
ERROR = 2
STYLE_SHIFT = 2  # bits 2-3: date style (6/9 digits, Z/+00:00)

LogRow = tuple[int, int, int, int]  # (date ns, source index, template index, flags)


@dataclass(frozen=True)
class Window:
    """One log query, already validated: a start point, a signed range and a limit."""

    start_ns: int
    cursor_seq: int | None
    range_ns: int
    limit: int


class LogStore:
    """The logs of one project: per-sequence columns plus the (date, id) order."""

    def __init__(self, project_code: int) -> None:
        self.code = project_code & 0xFFFFFF
        self.sources: list[dict[str, Any]] = []
        self._ts = array("q")
        self._src = array("l")
        self._tmpl = array("H")
        self._flags = array("B")
        self._late_created: dict[int, int] = {}
        self._order_ts = array("q")
        self._order_seq = array("q")
        self._fragments: dict[int, str] = {}  # source index -> its metadata as JSON members

    def __len__(self) -> int:
        return len(self._ts)

    def add_source(self, meta: dict[str, Any]) -> int:
        self.sources.append(meta)
        return len(self.sources) - 1

    def add(self, rows: Iterable[LogRow], created_sec: int | None = None) -> None:
        """Store new logs; `created_sec` marks late logs whose id second is after their date."""
        batch = list(rows)
        if not batch:
            return
        first_seq = len(self._ts)
        for ts, src, tmpl, flags in batch:
            self._ts.append(ts)
            self._src.append(src)
            self._tmpl.append(tmpl)
            self._flags.append(flags)
        if created_sec is not None:
            for seq in range(first_seq, len(self._ts)):
                self._late_created[seq] = created_sec
        self._merge_order(first_seq, min(batch, key=_row_date)[0])

    def _merge_order(self, first_seq: int, min_ts: int) -> None:
        cut = bisect.bisect_left(self._order_ts, min_ts)
        tail = list(self._order_seq[cut:]) + list(range(first_seq, len(self._ts)))
        tail.sort(key=self._order_key)
        del self._order_ts[cut:]
        del self._order_seq[cut:]
        self._order_ts.extend(self._ts[seq] for seq in tail)
        self._order_seq.extend(tail)

    def _order_key(self, seq: int) -> tuple[int, int, int]:
        return (self._ts[seq], self._created_sec(seq), seq)

    def _created_sec(self, seq: int) -> int:
        return self._late_created.get(seq, self._ts[seq] // NS_PER_S)

    def log_id(self, seq: int) -> str:
        return f"{self._created_sec(seq):08x}{self.code:06x}{seq:010x}"

    def seq_of(self, log_id: str, as_of_ns: int) -> int | None:
        """The sequence number of a visible log with this id, or None."""
        try:
            seq = int(log_id[14:], 16)
        except ValueError:
            return None
        if int(log_id[8:14], 16) != self.code or seq >= len(self._ts):
            return None
        if self.log_id(seq) != log_id or self._ts[seq] > as_of_ns:
            return None
        return seq

    def date_ns(self, seq: int) -> int:
        return self._ts[seq]

    def visible_count(self, as_of_ns: int) -> int:
        return bisect.bisect_right(self._order_ts, as_of_ns)

    def query(self, window: Window, as_of_ns: int, keep: Callable[[int], bool] | None) -> list[int]:
        """Sequence numbers of one page, in API order (oldest first if the range is positive)."""
        visible = self.visible_count(as_of_ns)
        if window.range_ns >= 0:
            begin = self._begin_position(window, forward=True)
            stop_ts = window.start_ns + window.range_ns
            end = min(bisect.bisect_right(self._order_ts, stop_ts), visible)
            positions: Sequence[int] = range(begin, max(begin, end))
        else:
            begin = min(self._begin_position(window, forward=False), visible - 1)
            low = bisect.bisect_left(self._order_ts, window.start_ns + window.range_ns)
            positions = range(begin, low - 1, -1)
        return self._collect(positions, window, keep)

    def _begin_position(self, window: Window, *, forward: bool) -> int:
        if window.cursor_seq is not None:
            lo = bisect.bisect_left(self._order_ts, window.start_ns)
            hi = bisect.bisect_right(self._order_ts, window.start_ns)
            return self._order_seq.index(window.cursor_seq, lo, hi)
        if forward:
            return bisect.bisect_left(self._order_ts, window.start_ns)
        return bisect.bisect_right(self._order_ts, window.start_ns) - 1

    def _collect(
        self, positions: Sequence[int], window: Window, keep: Callable[[int], bool] | None
    ) -> list[int]:
        order = self._order_seq
        if keep is None and isinstance(positions, range):
            step = positions.step
            picked = positions[: window.limit]
            if step > 0:
                return list(order[picked.start : picked.stop])
            return [order[p] for p in picked]
        out: list[int] = []
        for position in positions:
            seq = order[position]
            if seq == window.cursor_seq or keep is None or keep(seq):
                out.append(seq)
                if len(out) >= window.limit:
                    break
        return out

    def matcher(
        self, source_ok: Callable[[dict[str, Any]], bool], system: bool | None, level: str | None
    ) -> Callable[[int], bool]:
        """A per-sequence predicate: source metadata once per source, flags per log."""
        mask = bytearray(1 if source_ok(meta) else 0 for meta in self.sources)
        src, flags = self._src, self._flags
        want_mask = (SYSTEM if system is not None else 0) | (ERROR if level is not None else 0)
        want = (SYSTEM if system else 0) | (ERROR if level == "error" else 0)

        def keep(seq: int) -> bool:
            return bool(mask[src[seq]]) and (flags[seq] & want_mask) == want

        return keep

    def render(self, seq: int) -> dict[str, Any]:
        """The JSON record of one log as the API returns it."""
        flags = self._flags[seq]
        meta = self.sources[self._src[seq]]
        record: dict[str, Any] = {
            "id": self.log_id(seq),
            "date": format_log_date(self._ts[seq], flags >> STYLE_SHIFT),
            "log": render_text(self._tmpl[seq], seq, meta),
        }
        record.update(meta)
        record["system"] = bool(flags & SYSTEM)
        record["level"] = "error" if flags & ERROR else "info"
        return record

    def render_json(self, seq: int) -> str:
        """`render(seq)` straight to JSON text: the hot path of serving a page."""
        flags, src = self._flags[seq], self._src[seq]
        fragment = self._fragments.get(src)
        if fragment is None:
            meta = self.sources[src]
            fragment = "".join(f",{_quote(k)}:{_quote(v)}" for k, v in meta.items())
            self._fragments[src] = fragment
        date = format_log_date(self._ts[seq], flags >> STYLE_SHIFT)
        text = _quote(render_text(self._tmpl[seq], seq, self.sources[src]))
        system = "true" if flags & SYSTEM else "false"
        level = "error" if flags & ERROR else "info"
        return (
            f'{{"id":"{self.log_id(seq)}","date":"{date}","log":{text}{fragment},'
            f'"system":{system},"level":"{level}"}}'
        )

    # -- the current API (GET /logs): a time range, nanosecond timestamps, metadata apart --

    def between(
        self,
        start_ns: int,
        end_ns: int,
        as_of_ns: int,
        limit: int,
        keep: Callable[[int], bool] | None,
    ) -> list[int]:
        """`start <= date < end` oldest first when start < end; `end < date <= start`
        newest first when start > end."""
        visible = self.visible_count(as_of_ns)
        order = self._order_ts
        if start_ns <= end_ns:
            low = bisect.bisect_left(order, start_ns)
            high = min(bisect.bisect_left(order, end_ns), visible)
            positions: Sequence[int] = range(low, max(low, high))
        else:
            high = min(bisect.bisect_right(order, start_ns), visible)
            positions = range(high - 1, bisect.bisect_right(order, end_ns) - 1, -1)
        return self._collect(positions, Window(start_ns, None, 0, limit), keep)

    def current_metadata(self, seq: int) -> dict[str, Any]:
        """The `metadata` object of the current API: the source, the flags, and for
        deployment logs the instance and process that wrote them."""
        src, flags = self._src[seq], self._flags[seq]
        meta = dict(self.sources[src])
        if "deployment_name" in meta:
            meta["instance_id"] = f"{self.code:06x}-{src:06x}"
            meta["process_id"] = seq % 4 + 1
        meta["system"] = bool(flags & SYSTEM)
        meta["level"] = "error" if flags & ERROR else "info"
        return meta

    def current_matcher(
        self, keeps: Callable[[dict[str, Any], Callable[[], str]], bool]
    ) -> Callable[[int], bool]:
        """A per-sequence predicate over (metadata, lazily rendered text)."""

        def keep(seq: int) -> bool:
            meta = self.sources[self._src[seq]]
            return keeps(
                self.current_metadata(seq), lambda: render_text(self._tmpl[seq], seq, meta)
            )

        return keep

    def render_current(self, seq: int) -> dict[str, Any]:
        """One item of `GET /logs`: nanosecond `timestamp`, `timestamp_str`, `log`, `metadata`."""
        ts = self._ts[seq]
        return {
            "timestamp": ts,
            "timestamp_str": format_log_date(ts, 3),
            "log": render_text(self._tmpl[seq], seq, self.sources[self._src[seq]]),
            "metadata": self.current_metadata(seq),
        }

    def visible_seqs(self, as_of_ns: int) -> list[int]:
        return list(self._order_seq[: self.visible_count(as_of_ns)])


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _row_date(row: LogRow) -> int:
    return row[0]
