"""The README table reference is generated from the schemas and covers all of them."""

from __future__ import annotations

import pytest

from transform import SCHEMAS, table_reference_markdown


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_every_table_and_column_is_described(table):
    """Each table has a section listing every column with its description and nullability."""
    text = table_reference_markdown()
    section = text.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
    schema = SCHEMAS[table]
    assert schema.description.split(" (")[0] in section
    for column in schema.columns:
        nullable = "yes" if column.nullable else "no"
        assert f"| `{column.name}` |" in section
        assert f"| {nullable} | {column.description.replace('|', chr(92) + '|')} |" in section


def test_keys_partitions_and_types_are_shown():
    """Keys, hive partitioning, timestamp zones and enum values are spelled out."""
    text = table_reference_markdown()
    logs = text.split("### `logs`", 1)[1].split("\n### ", 1)[0]
    assert "- key: `id`" in logs
    assert "`project`, `day` (UTC day of `date`)" in logs
    assert "| `date` | timestamp[us, UTC] |" in logs
    assert "| `level` | enum(info, error) |" in logs
    assert "### `_rejects`" in text
