"""`ubiops-etl sql` cannot modify or delete the lake, write anywhere, or read files outside
the warehouse root (through `..`, a sibling folder sharing the root's prefix, a symlink
planted in the lake, absolute paths, URLs, ATTACH, or by switching the limits off).

Protections checked: the read-only statement check (warehouse/query.py `check_read_only`)
and the locked-down DuckDB connection (`allowed_directories`, `enable_external_access =
false`, `lock_configuration`). Without the statement check DROP/COPY/CREATE change the lake
(its hash changes); without the connection lock-down the outside secret is printed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lake_examples import example_frame
from lakeroot import LakeRoot
from reliability_harness import CLI, FigureBook, clean_env
from s3server import S3Server
from typer.testing import CliRunner

from flows.cli import app
from warehouse import Lake, build_bi_database

SECRET = "TOPSECRET-outside-the-lake"

HOSTILE_SQL = [
    "DROP VIEW logs",
    "DELETE FROM logs",
    "UPDATE logs SET log = 'x'",
    "INSERT INTO logs SELECT * FROM logs",
    "CREATE TABLE t AS SELECT 1",
    "CREATE OR REPLACE VIEW logs AS SELECT 1 AS id",
    "COPY (SELECT 1 AS id) TO '{lake}/logs/project=alpha/day=2026-03-01/evil.parquet'",
    "COPY (SELECT 1) TO '{outside}/written.csv'",
    "COPY logs TO '{lake}/copy.csv'",
    "SELECT 1; DROP VIEW logs",
    "EXPLAIN ANALYZE COPY (SELECT 1) TO '{outside}/explained.csv'",
    "EXPORT DATABASE '{outside}/export'",
    "ATTACH '{outside}/attached.duckdb' AS x",
    "ATTACH '{lake}/ubiops.duckdb' AS bi",
    "SET enable_external_access = true",
    "SET allowed_directories = ['/']",
    "RESET lock_configuration",
    "INSTALL httpfs",
    "LOAD httpfs",
    "CALL pragma_version()",
    "PRAGMA enable_profiling",
    "CHECKPOINT",
    "SELECT * FROM read_text('{outside}/secret.txt')",
    "SELECT * FROM read_csv('{outside}/secret.txt')",
    "SELECT * FROM read_blob('{outside}/secret.txt')",
    "SELECT * FROM '{outside}/secret.txt'",
    "SELECT * FROM read_text('{lake}/../outside/secret.txt')",
    "SELECT * FROM read_text('{lake}-sibling/secret.txt')",
    "SELECT * FROM read_text('{lake}/planted-link.txt')",
    "SELECT * FROM read_text('{lake}/planted-dir/secret.txt')",
    "SELECT * FROM read_text(['{lake}/ubiops.duckdb', '{outside}/secret.txt'])",
    "SELECT * FROM glob('{outside}/*')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_parquet('http://127.0.0.1:9/x.parquet')",
    "WITH s AS (SELECT * FROM read_text('{outside}/secret.txt')) SELECT * FROM s",
    "SELECT * FROM logs UNION ALL SELECT * FROM read_csv('{outside}/secret.txt')",
]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small lake, a secret outside it, a sibling folder sharing its prefix, and a symlink
    to the outside planted inside it."""
    base = tmp_path_factory.mktemp("sandbox")
    lake_root, outside, sibling = base / "lake", base / "outside", base / "lake-sibling"
    for folder in (outside, sibling):
        folder.mkdir()
        (folder / "secret.txt").write_text(SECRET + "\n")
    lake = Lake.open(lake_root)
    lake.write("logs", example_frame("logs", [{"id": f"{i:024x}"} for i in range(5)]))
    build_bi_database(lake.location)
    os.symlink(outside / "secret.txt", lake_root / "planted-link.txt")
    os.symlink(outside, lake_root / "planted-dir")
    return {"lake": lake_root, "outside": outside, "base": base}


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under `root` (symlinks not followed) and the hash of its content."""
    digest = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


@pytest.mark.parametrize("template", HOSTILE_SQL)
def test_hostile_sql_changes_nothing_and_reads_nothing_outside(
    sandbox: dict[str, Path], figures: FigureBook, template: str
):
    """The statement fails with a non-zero exit, the lake and the outside folder are byte-for-
    byte unchanged, and the outside secret never reaches the output."""
    lake, outside = sandbox["lake"], sandbox["outside"]
    statement = template.format(lake=lake, outside=outside)
    before = (tree_digest(sandbox["base"]), sorted(p.name for p in outside.iterdir()))
    result = CliRunner().invoke(app, ["sql", statement, "-w", str(lake), "-f", "csv"])
    figures["local"].bad_inputs["hostile SQL statements"] += 1
    assert result.exit_code != 0, result.output
    assert SECRET not in result.output
    assert (tree_digest(sandbox["base"]), sorted(p.name for p in outside.iterdir())) == before
    count = CliRunner().invoke(app, ["sql", "SELECT count(*) AS n FROM logs", "-w", str(lake)])
    assert count.exit_code == 0, count.output
    assert " 5" in count.output or "\n5" in count.output


def test_installed_cli_refuses_outside_reads_with_one_line(sandbox: dict[str, Path]):
    """The installed `ubiops-etl sql` refuses a read outside the root with exit 2 and one
    `error:` line, not a traceback, and prints no byte of the file."""
    import subprocess

    lake, outside = sandbox["lake"], sandbox["outside"]
    done = subprocess.run(
        [CLI, "sql", f"SELECT * FROM read_text('{outside}/secret.txt')", "-w", str(lake)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert SECRET not in done.stdout + done.stderr
    assert done.returncode == 2, (done.returncode, done.stderr[-1500:])
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error:")


S3_HOSTILE_SQL = [
    "SELECT * FROM read_text('{outside}/secret.txt')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_parquet('{sibling}/secret.parquet')",
    "SELECT * FROM read_parquet('{other}/secret.parquet')",
    "COPY (SELECT 1 AS id) TO '{lake}/logs/project=alpha/day=2026-03-01/evil.parquet'",
    "DROP VIEW logs",
]


def test_hostile_sql_on_an_s3_lake_reads_and_writes_nothing_else(
    s3_server: S3Server,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    figures: FigureBook,
):
    """`ubiops-etl sql` on an `s3://` root: reads of local files, of a sibling prefix
    (`lake-sibling/`) and of another bucket are refused, nothing is written, the secret
    never shows; a plain SELECT of the views works."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    root = LakeRoot.on_s3(s3_server)
    other = s3_server.new_bucket()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n")
    secret = pa.table({"secret": [SECRET]})
    sink = pa.BufferOutputStream()
    pq.write_table(secret, sink)
    client: Any = s3_server.client()
    for bucket, key in ((root.bucket, "lake-sibling/secret.parquet"), (other, "secret.parquet")):
        client.put_object(Bucket=bucket, Key=key, Body=sink.getvalue().to_pybytes())
    lake = Lake.open(root.location())
    lake.write("logs", example_frame("logs", [{"id": f"{i:024x}"} for i in range(5)]))
    before = {k: root.get(k) for k in root.list_keys()}
    places = {
        "lake": root.uri,
        "outside": str(outside),
        "sibling": f"s3://{root.bucket}/lake-sibling",
        "other": f"s3://{other}",
    }
    for template in S3_HOSTILE_SQL:
        statement = template.format(**places)
        result = CliRunner().invoke(app, ["sql", statement, "-w", root.uri, "-f", "csv"])
        figures["s3"].bad_inputs["hostile SQL statements"] += 1
        assert result.exit_code != 0, (statement, result.output)
        assert SECRET not in result.output, statement
    assert {k: root.get(k) for k in root.list_keys()} == before
    count = CliRunner().invoke(app, ["sql", "SELECT count(*) AS n FROM logs", "-w", root.uri])
    assert count.exit_code == 0, count.output
    assert " 5" in count.output or "\n5" in count.output
