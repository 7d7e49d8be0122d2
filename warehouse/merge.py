"""Pure merge rules: one row per key inside a batch, and the SQL that merges a batch in.

No I/O here. Each table keeps one row per key:

- dedupe (logs, audit): the first row seen for a key wins; stored rows are never changed.
- upsert (requests): the row with the newest `_extracted_at` wins; on a tie the later write
  wins if its content differs, and re-writing an identical batch changes nothing.
- replace (snapshots): the project's rows are the batch's.

A batch is collapsed first: Delta's merge needs at most one source row per target key, and
an append of new keys must not hold one twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from transform.schemas import EXTRACTED_AT, STRING, TableSchema

if TYPE_CHECKING:
    import polars as pl

TARGET = "t"
SOURCE = "s"


def first_per_key(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """One row per key, the first in batch order (append-only records repeat unchanged)."""
    return frame.unique(subset=key, keep="first", maintain_order=True)


def latest_per_key(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """One row per key, the newest `_extracted_at`; later batch rows win ties."""
    ordered = frame.with_row_index("_order").sort([EXTRACTED_AT, "_order"])
    return ordered.unique(subset=key, keep="last", maintain_order=True).drop("_order")


def collapse_batch(schema: TableSchema, frame: pl.DataFrame) -> pl.DataFrame:
    """Remove repeats inside one batch according to the table's merge policy."""
    key = list(schema.key)
    distinct = frame.get_column(key[0]).n_unique() if len(key) == 1 else frame.n_unique(key)
    if distinct == frame.height:
        # The usual batch repeats nothing: counting keys costs a seventh of the copy that
        # `unique` makes (bench/lake-analysis.md, "Update, 2026-12-01").
        return frame
    if schema.merge == "dedupe":
        return first_per_key(frame, key)
    return latest_per_key(frame, key)


def run_starts(frame: pl.DataFrame, keys: list[str]) -> list[int]:
    """The rows whose `keys` differ from the row before (row 0 included): where each run of
    rows of one partition starts. Pages arrive in time order, so a batch has a few runs."""
    import polars as pl

    changed = pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift()) for k in keys)
    starts: list[int] = frame.select(changed.arg_true()).to_series().to_list()
    return starts


def partitions_of(frame: pl.DataFrame, keys: list[str]) -> list[tuple[object, ...]]:
    """The partitions (values of `keys`) `frame` holds, first seen first; read from the
    rows where a run starts, a handful instead of the whole batch."""
    return list(dict.fromkeys(frame.select(keys)[run_starts(frame, keys)].iter_rows()))


def sql_literal(value: object) -> str:
    """A partition value as a SQL literal (strings and dates only: what partitions hold)."""
    return "'" + str(value).replace("'", "''") + "'"


def _col(alias: str, name: str) -> str:
    return f'{alias}."{name}"'


def _pruning(
    schema: TableSchema, partitions: Iterable[tuple[object, ...]], alias: str | None
) -> list[str]:
    parts = set(partitions)
    pruning = []
    for index, name in enumerate(schema.partition_keys):
        values = sorted({sql_literal(p[index]) for p in parts})
        column = _col(alias, name) if alias else f'"{name}"'
        pruning.append(f"{column} IN ({', '.join(values)})")
    return pruning


def match_predicate(schema: TableSchema, partitions: Iterable[tuple[object, ...]]) -> str:
    """The merge's ON clause: same partition and key, limited to the partitions the batch
    touches so the merge reads only those files."""
    keys = list(dict.fromkeys([*schema.partition_keys, *schema.key]))
    same = " AND ".join(f"{_col(TARGET, k)} = {_col(SOURCE, k)}" for k in keys)
    return " AND ".join([same, *_pruning(schema, partitions, TARGET)])


def key_span(schema: TableSchema, frame: pl.DataFrame) -> list[str]:
    """Conditions every stored row meets whose key equals one of `frame`'s: each string key
    column (partition columns aside) between the batch's least and greatest value. Not for
    a column the batch holds a null in (a null key matches a null one)."""
    spans = []
    for name in schema.key:
        if name in schema.partition_keys or schema.types[name] != STRING:
            continue
        column = frame.get_column(name)
        if column.is_empty() or column.null_count():
            continue
        low, high = sql_literal(column.min()), sql_literal(column.max())
        spans += [f'"{name}" >= {low}', f'"{name}" <= {high}']
    return spans


def stored_keys_predicate(
    schema: TableSchema, partitions: Iterable[tuple[object, ...]], frame: pl.DataFrame
) -> str:
    """The files whose keys an insert-if-absent of `frame` must read: in the partitions it
    touches, and with a key range (the file's statistics) that meets the batch's. delta-rs
    prunes files by it before it builds a dataset, so files outside the span cost nothing.
    Ids that grow with time (the legacy API's log ids) make a new batch meet few stored
    files, often none; hashed ids (the current API's log ids, UUIDs) span nearly the whole
    range, and then only the partitions prune."""
    return " AND ".join([*_pruning(schema, partitions, None), *key_span(schema, frame)])


def supersedes_predicate(schema: TableSchema) -> str:
    """When a matched source row replaces the stored one (upsert): newer, or extracted at the
    same instant with different content (offset paging can return a record twice while its
    status moves on); an identical re-write changes nothing."""
    at_s, at_t = _col(SOURCE, EXTRACTED_AT), _col(TARGET, EXTRACTED_AT)
    skip = {*schema.partition_keys, *schema.key, EXTRACTED_AT}
    differs = " OR ".join(
        f"({_col(SOURCE, n)} IS DISTINCT FROM {_col(TARGET, n)})"
        for n in schema.names
        if n not in skip
    )
    return f"({at_s} > {at_t}) OR (({at_s} = {at_t}) AND ({differs}))"


def replace_predicate(projects: Iterable[str]) -> str:
    """The rows a snapshot write replaces: every row of the given projects."""
    return f"project IN ({', '.join(sorted({sql_literal(p) for p in projects}))})"
