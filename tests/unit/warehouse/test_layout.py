"""Names become path segments only when safe; tables map to the documented layout."""

import pytest

from warehouse.errors import InvalidName, UnsafePath
from warehouse.layout import (
    STREAM_TABLES,
    lease_name,
    partition_prefix,
    rejects_key,
    state_key,
    table_schema,
    validate_project,
)
from warehouse.objects import check_key


@pytest.mark.parametrize("name", ["a", "demo", "my-project-2", "x" * 64])
def test_valid_project_names_pass(name):
    """Lowercase letters, digits and dashes starting with a letter are accepted as is."""
    assert validate_project(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "1abc",
        "-abc",
        "Abc",
        "a/b",
        "..",
        "a..b/..",
        "a b",
        "a_b",
        "x" * 65,
        "a\x00",
        "é",
        "a%b",
    ],
)
def test_unsafe_project_names_are_refused(name):
    """Anything that could escape or confuse the layout is refused before it becomes a path,
    including names a table format would have to escape (space, %, /, unicode)."""
    with pytest.raises(InvalidName):
        validate_project(name)


def test_partitions_rejects_state_and_leases_have_their_places():
    """Project partitions, rejects tables, cursors and leases live where the README says."""
    assert partition_prefix("logs", "demo") == "logs/project=demo"
    assert rejects_key("logs") == "_rejects/logs"
    assert state_key("demo", "logs") == "_state/streams/demo/logs.json"
    assert lease_name("demo", "logs") == "demo/logs"
    with pytest.raises(InvalidName):
        state_key("demo", "../x")
    with pytest.raises(InvalidName):
        lease_name("../x", "logs")


def test_every_table_belongs_to_exactly_one_stream():
    """Each declared table is written by one stream, so one lease guards it."""
    tables = [t for ts in STREAM_TABLES.values() for t in ts]
    assert sorted(tables) == sorted(set(tables))
    assert {"logs", "requests", "audit_events", "projects", "credit_usage"} <= set(tables)


def test_unknown_table_is_refused():
    """Writing to a table the schemas do not declare is an error naming the known ones."""
    with pytest.raises(InvalidName, match="logs"):
        table_schema("nope")


@pytest.mark.parametrize("key", ["/etc/passwd", "a/../../b", "a//b", "./a", "a\\b", "a\x00"])
def test_storage_keys_that_could_escape_are_refused(key):
    """Absolute keys, '..', empty segments and backslashes never reach the store."""
    with pytest.raises(UnsafePath):
        check_key(key)
