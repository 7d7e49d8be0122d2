"""Test support: other DuckDB versions and SQLAlchemy stacks, installed into their own
directories (never the venv) and driven in child processes, the way BI tools bundle them.

Each directory is installed once per test session with `pip install --target`; a child
python puts it first on `sys.path`, so `import duckdb` there is the version under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

DUCKDB_14 = "1.4.4"  # the Grafana DuckDB plugin's engine
DUCKDB_15 = "1.5.5"  # Metabase's DuckDB driver's engine
SUPERSET_STACK = (f"duckdb=={DUCKDB_15}", "duckdb-engine==0.17.0", "sqlalchemy==2.0.44")
"""What Superset's own environment holds to reach DuckDB: duckdb-engine on SQLAlchemy 2.0."""


def pip_target(target: Path, requirements: tuple[str, ...]) -> Path:
    """`requirements` (with their dependencies) installed into `target`, from the registry."""
    done = target / ".installed.json"
    if done.is_file() and json.loads(done.read_text()) == list(requirements):
        return target
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), *requirements],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    done.write_text(json.dumps(list(requirements)))
    return target


def run_child(target: Path, script: str, *args: str, with_venv: bool = False) -> Any:
    """Run `script` in a child python that imports from `target` first; its JSON output.

    Without `with_venv` the child sees only `target` and the standard library (`-S`: no
    site-packages); with it the venv's packages follow `target` (for s3fs), and `target`'s
    duckdb still wins because PYTHONPATH comes first.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    flags = [] if with_venv else ["-S"]
    done = subprocess.run(
        [sys.executable, *flags, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


OPEN_AND_QUERY = r"""
import json, sys
import duckdb
path = sys.argv[1]
con = duckdb.connect(path, read_only=True)
if len(sys.argv) > 2:  # an S3 lake: read it through s3fs, as the writer reads through obstore
    import s3fs
    endpoint = sys.argv[2]
    con.register_filesystem(s3fs.S3FileSystem(endpoint_url=endpoint))
con.execute("SET TimeZone = 'UTC'")
views = [r[0] for r in con.execute(
    "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall()]
counts = {v: con.execute(f'SELECT count(*) FROM "{v}"').fetchone()[0] for v in views}
marts = {
    v: [list(map(str, r)) for r in con.execute(f'SELECT * FROM "{v}" ORDER BY ALL').fetchall()]
    for v in views if v.startswith("mart_")
}
comments = {
    f"{t}.{c}": m for t, c, m in con.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal"
    ).fetchall()
}
print(json.dumps({"version": duckdb.__version__, "views": views, "counts": counts,
                  "marts": marts, "comments": comments}))
"""

SQLALCHEMY_REFLECT = r"""
import json, sys
import duckdb, sqlalchemy
from sqlalchemy import create_engine, inspect, text
url = sys.argv[1]
engine = create_engine(url, connect_args={"read_only": True})
inspector = inspect(engine)
views = sorted(inspector.get_view_names())
columns = {v: [c["name"] for c in inspector.get_columns(v)] for v in views}
comments = {
    v: {c["name"]: c.get("comment") for c in inspector.get_columns(v)} for v in views
}
with engine.connect() as con:
    counts = {v: con.execute(text(f'SELECT count(*) FROM "{v}"')).scalar() for v in views}
    marts = {
        v: [list(map(str, r)) for r in con.execute(text(f'SELECT * FROM "{v}" ORDER BY ALL'))]
        for v in views if v.startswith("mart_")
    }
print(json.dumps({"sqlalchemy": sqlalchemy.__version__, "duckdb": duckdb.__version__,
                  "views": views, "columns": columns, "comments": comments,
                  "counts": counts, "marts": marts}))
"""
