"""Issue 10: CPU of `Lake.write` as a table's log grows since its last checkpoint, trees A/B.

    python -m bench.delta_depth [--tree before=/tmp/ab-before] [--tree after=.]
        [--depths 0,60] [--repeats 4]

Each run is a fresh process of one tree (`python bench/delta_depth.py child ...` with that
tree first on the path): a fresh local lake, `depth` small commits (100 logs each) into one
project, then the measured part, 1,000,000 logs of another project in 50,000-row commits
(`bench/lake_frames.py`, the batches of lake_bench's figure 1). CPU = user + system of the
process, all threads, inside `Lake.write` only. Trees alternate within each repeat.
Writes bench/delta-depth.json and bench/delta-depth.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ROWS, BATCH, DAYS = 1_000_000, 50_000, 30


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(depth: int, root: str) -> dict[str, Any]:
    """One run in this process (its tree is first on sys.path)."""
    import warehouse
    from bench.lake_frames import log_frame
    from warehouse import Lake

    lake = Lake.open(root)
    for i in range(depth):
        lake.write("logs", log_frame(i * 100, 100, DAYS, 10_000, project="earlier"))
    measured = Lake.open(root)  # a new run: its own handles
    cpu = 0.0
    for start in range(0, ROWS, BATCH):
        frame = log_frame(start, BATCH, DAYS, ROWS, project="measured")
        before = _cpu()
        measured.write("logs", frame)
        cpu += _cpu() - before
    return {"cpu_per_million": cpu * 1_000_000 / ROWS, "warehouse": warehouse.__file__}


def _run(tree: str, depth: int) -> dict[str, Any]:
    root = tempfile.mkdtemp(prefix="delta-depth-")
    env = {**os.environ, "PYTHONPATH": f"{Path(tree).resolve()}{os.pathsep}{ROOT}"}
    try:
        done = subprocess.run(
            [sys.executable, str(Path(__file__)), "child", str(depth), root],
            env=env,
            cwd=tree,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def render(out: dict[str, Any]) -> str:
    lines = [
        "# Delta writes as the log grows since its last checkpoint (issue 10)",
        "",
        f"Command: `{out['command']}`; run {out['machine']['date']}, "
        f"{out['machine']['nproc']} CPUs, load {out['load']}.",
        "",
        "CPU s per 1M logs written (50,000-row commits into a lake whose table already has "
        "`depth` commits); median, then every run.",
        "",
        "| tree | depth | median | runs |",
        "|---|---|---|---|",
    ]
    for key, runs in out["runs"].items():
        label, depth = key.rsplit(" ", 1)
        values = [r["cpu_per_million"] for r in runs]
        lines.append(
            f"| {label} ({out['trees'][label]}) | {depth} | {statistics.median(values):.2f} | "
            f"{', '.join(f'{v:.2f}' for v in values)} |"
        )
    return "\n".join([*lines, ""])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        print(json.dumps(child(int(sys.argv[2]), sys.argv[3])), flush=True)
        return
    sys.path.insert(0, str(ROOT))
    from bench.harness import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], help="label=path of a checkout")
    parser.add_argument("--depths", default="0,60")
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    trees = dict(t.split("=", 1) for t in args.tree) or {"this": "."}
    depths = [int(d) for d in args.depths.split(",")]
    runs: dict[str, list[dict[str, Any]]] = {}
    for k in range(args.repeats):
        order = list(trees.items()) if k % 2 == 0 else list(trees.items())[::-1]
        for depth in depths:
            for label, tree in order:
                result = _run(tree, depth)
                runs.setdefault(f"{label} {depth}", []).append(result)
                print(f"  {label} depth {depth}: {result['cpu_per_million']:.2f}", flush=True)
    out = {
        "command": " ".join(["python -m bench.delta_depth", *sys.argv[1:]]),
        "machine": machine(),
        "load": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        "trees": trees,
        "runs": dict(sorted(runs.items())),
    }
    (HERE / "delta-depth.json").write_text(json.dumps(out, indent=1) + "\n")
    (HERE / "delta-depth.md").write_text(render(out))
    print(f"wrote {HERE / 'delta-depth.md'}")


if __name__ == "__main__":
    main()
