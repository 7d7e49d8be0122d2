"""A lake written by the plain-Parquet release is converted in place the first time this
version opens it: nothing lost, nothing doubled, cursors kept, nothing fetched again.

The fixture `tests/fixtures/legacy_lake` was written by that release (commit 0169d41): two
projects synced by its real flow from simulator seed 5 at 2026-11-20 12:00 UTC, two
rejects, and the leftovers of a crash: a pending journal entry whose added file (a copy of a
logs file) must not count, a committed entry whose removed file (a stale requests copy) must
not count, a temp file and the old lock file. `legacy_lake_expected.json` holds what that
release's views showed.
"""

import asyncio
import json
import logging
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lake_examples import read_direct

import warehouse.convert as convert
from flows.core.runner import execute
from flows.core.settings import Settings
from simulator import ManualClock, WorldSpec, create_app, generate_world, serve_in_thread
from warehouse import Lake, LakeLocation, rows_per_table

FIXTURES = Path(__file__).parents[2] / "fixtures"
EXPECTED = json.loads((FIXTURES / "legacy_lake_expected.json").read_text())
SYNCED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SPEC = WorldSpec(
    seed=5,
    projects=2,
    days=2,
    logs_per_day=120,
    requests_per_day=16,
    burst_size=30,
    quiet_period_hours=26,
)


@pytest.fixture
def legacy(tmp_path) -> LakeLocation:
    shutil.copytree(FIXTURES / "legacy_lake", tmp_path / "lake")
    return LakeLocation.parse(tmp_path / "lake")


def _files(root: LakeLocation) -> list[str]:
    return sorted(
        p.relative_to(root.uri).as_posix() for p in Path(root.uri).rglob("*") if p.is_file()
    )


def test_conversion_keeps_every_record_once_and_drops_the_crash_leftovers(legacy):
    """Every table shows the rows the old views showed, each id once in the views and in
    the raw files, and no old file, journal, lock or temp file is left."""
    state_before = {
        p.relative_to(legacy.uri).as_posix(): json.loads(p.read_text())
        for p in Path(legacy.uri, "_state", "streams").rglob("*.json")
    }
    lake = Lake.open(legacy)
    assert rows_per_table(legacy) == EXPECTED["rows_per_table"]
    for table, ids in EXPECTED["ids"].items():
        assert [r[0] for r in read_direct(legacy, table, "id")] == ids
    leftovers = [f for f in _files(legacy) if re.search(convert.LEGACY_NAME + "$", f)]
    assert leftovers == []
    assert not any(
        f.startswith(("_tmp/", "_state/journal/")) or f.endswith(".lock") for f in _files(legacy)
    )
    for key, doc in state_before.items():
        assert json.loads(Path(legacy.uri, key).read_text()) == doc
    runs = lake.ledger.read()
    assert len(runs) == 1
    assert runs[0]["ok"]
    assert runs[0]["rows_written"] == 942


def test_opening_again_changes_nothing(legacy):
    """Conversion happens once; a second open finds the format marker and touches nothing."""
    Lake.open(legacy)
    before = {f: Path(legacy.uri, f).stat().st_mtime_ns for f in _files(legacy)}
    Lake.open(legacy)
    assert {f: Path(legacy.uri, f).stat().st_mtime_ns for f in _files(legacy)} == before


def test_a_conversion_killed_half_way_is_finished_by_the_next_open(legacy, monkeypatch):
    """If the converter dies after some tables are committed, the next open converts the
    rest and the idempotent writes double nothing."""

    def die(*_args):
        raise KeyboardInterrupt  # like a kill: nothing after this point runs

    monkeypatch.setattr(convert, "_load_rejects", die)
    with pytest.raises(KeyboardInterrupt):
        Lake.open(legacy)
    monkeypatch.undo()
    Lake.open(legacy)
    assert rows_per_table(legacy) == EXPECTED["rows_per_table"]
    for table, ids in EXPECTED["ids"].items():
        assert [r[0] for r in read_direct(legacy, table, "id")] == ids


def test_the_next_sync_continues_from_the_old_cursors(legacy, monkeypatch):
    """Syncing the same world right after conversion writes no log, request or audit event
    again: the old release's cursors were kept."""
    clock = ManualClock(SYNCED_AT)
    world = generate_world(SPEC, now=clock.now())
    with (
        serve_in_thread(create_app(world, clock=clock, live=False)) as server,
    ):
        monkeypatch.setenv("UBIOPS_API_HOST", server.base_url)
        monkeypatch.setenv("UBIOPS_API_TOKEN", world.token)
        monkeypatch.setenv("UBIOPS_ETL_RATE_PER_MINUTE", "60000")
        settings = Settings.from_overrides(warehouse=legacy.uri)
        summary = asyncio.run(
            execute(
                settings,
                since=None,
                until=None,
                backfill=False,
                clock=clock.now,
                logger=logging.getLogger("test"),
            )
        )
    assert summary.ok
    written = {r.stream: r.rows_written for r in summary.results if r.project == "acme-ml-prod"}
    assert written["logs"] == 0
    assert written["requests"] == 0
    assert written["audit_events"] == 0
    assert rows_per_table(legacy)["logs"] == EXPECTED["rows_per_table"]["logs"]
