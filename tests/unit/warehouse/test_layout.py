"""Names become path segments only when safe; partitions map to the documented layout."""

import datetime as dt

import pytest

from transform.schemas import LOGS, PROJECTS
from warehouse.errors import InvalidName, UnsafePath
from warehouse.layout import (
    new_file_name,
    partition_dir,
    rejects_key,
    state_key,
    table_schema,
    validate_project,
)
from warehouse.storage import check_key


@pytest.mark.parametrize("name", ["a", "demo", "my-project-2", "x" * 64])
def test_valid_project_names_pass(name):
    """Lowercase letters, digits and dashes starting with a letter are accepted as is."""
    assert validate_project(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "1abc", "-abc", "Abc", "a/b", "..", "a..b/..", "a b", "a_b", "x" * 65, "a\x00", "é"],
)
def test_unsafe_project_names_are_refused(name):
    """Anything that could escape or confuse the layout is refused before it becomes a path."""
    with pytest.raises(InvalidName):
        validate_project(name)


def test_event_partition_has_project_and_day():
    """An event table partition is <table>/project=<p>/day=<YYYY-MM-DD>."""
    assert partition_dir(LOGS, "demo", dt.date(2026, 1, 2)) == "logs/project=demo/day=2026-01-02"


def test_snapshot_partition_has_project_only():
    """A snapshot table partition is <table>/project=<p>."""
    assert partition_dir(PROJECTS, "demo", None) == "projects/project=demo"


def test_event_partition_needs_a_day():
    """An event partition without a day is an error, not a silently different layout."""
    with pytest.raises(InvalidName):
        partition_dir(LOGS, "demo", None)


def test_file_names_sort_by_creation():
    """Later file names sort after earlier ones (snapshot views pick the newest by name)."""
    names = [new_file_name() for _ in range(50)]
    assert names == sorted(names)
    assert len(set(names)) == 50


def test_state_and_rejects_keys_are_inside_their_folders():
    """State keys live under _state/streams and rejects under _rejects/<table>."""
    assert state_key("demo", "logs") == "_state/streams/demo/logs.json"
    assert rejects_key("logs").startswith("_rejects/logs/")
    with pytest.raises(InvalidName):
        state_key("demo", "../x")


def test_unknown_table_is_refused():
    """Writing to a table the schemas do not declare is an error naming the known ones."""
    with pytest.raises(InvalidName, match="logs"):
        table_schema("nope")


@pytest.mark.parametrize("key", ["", "/etc/passwd", "a/../../b", "a//b", "./a", "a\\b", "a\x00"])
def test_storage_keys_that_could_escape_are_refused(key):
    """Absolute keys, '..', empty segments and backslashes never reach the filesystem."""
    with pytest.raises(UnsafePath):
        check_key(key)
