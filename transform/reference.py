"""The README's table reference, rendered from the declared schemas so it cannot drift."""

from __future__ import annotations

from transform.schemas import EVENT_TABLES, REJECT_TYPES, SNAPSHOT_TABLES, TableSchema

_MERGE_TEXT = {
    "dedupe": "append-only; a record already stored (same key) is not written again",
    "upsert": "the latest extracted version of each key wins",
    "replace": "the project's rows are replaced on every run",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table_section(schema: TableSchema) -> str:
    partitioning = (
        f"`project`, `day` (UTC day of `{schema.day_from}`)" if schema.day_from else "`project`"
    )
    lines = [
        f"### `{schema.name}`",
        "",
        _cell(schema.description),
        "",
        f"- key: {', '.join(f'`{k}`' for k in schema.key)}",
        f"- partitioned by: {partitioning}",
        f"- writes: {_MERGE_TEXT[schema.merge]}",
        "",
        "| column | type | nullable | description |",
        "|---|---|---|---|",
    ]
    for column in schema.columns:
        nullable = "yes" if column.nullable else "no"
        lines.append(
            f"| `{column.name}` | {column.type.name} | {nullable} | {_cell(column.description)} |"
        )
    return "\n".join(lines)


def _rejects_section() -> str:
    lines = [
        "### `_rejects`",
        "",
        "Records that could not be typed, kept with the raw JSON as received and the reason.",
        "",
        "| column | type |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {declared.name} |" for name, declared in REJECT_TYPES.items()]
    return "\n".join(lines)


def table_reference_markdown() -> str:
    """Markdown describing every lake table: description, key, partitioning and columns."""
    sections = ["## Tables", "", "### Event tables", ""]
    sections += [_table_section(s) + "\n" for s in EVENT_TABLES]
    sections += ["### Snapshot tables", ""]
    sections += [_table_section(s) + "\n" for s in SNAPSHOT_TABLES]
    sections.append(_rejects_section())
    return "\n".join(sections) + "\n"
