"""Benchmark of `transform.normalize` on raw log dicts: CPU seconds per 1,000,000 logs.

The input is what the extractor hands over: lists of dicts decoded from the API's JSON, with
the fields and shapes of real log lines (24-hex ids, 6- or 9-digit dates, deployment and
pipeline context on some lines). The same million logs are normalised in pages of 500 (one
call per API page) and in larger batches (a sink that buffers raw records first). For
scale, it also times the floor of the approach, one `pl.from_dicts` of the same records, and
what decoding the pages from JSON costs the extractor.

    .venv/bin/python bench/transform_bench.py --logs 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from transform import normalize

NOW = datetime(2026, 3, 10, tzinfo=UTC)
WORDS = [
    "prediction",
    "result",
    "request",
    "input",
    "output",
    "model",
    "loaded",
    "batch",
    "retry",
    "timeout",
]


def _date(moment: datetime, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{rng.randrange(1000):03d}+00:00"


def make_logs(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """`count` raw log records shaped like the API's (fields present only when set)."""
    rng = random.Random(seed)
    start = NOW - timedelta(days=1)
    logs = []
    for n in range(count):
        moment = start + timedelta(microseconds=n * 86_400_000_000 // count)
        record: dict[str, Any] = {
            "id": f"{int(moment.timestamp()):08x}{n:016x}",
            "date": _date(moment, rng),
            "log": f"[{rng.choice(['Info', 'Error'])}] " + " ".join(rng.choices(WORDS, k=12)),
            "level": "info" if rng.random() < 0.9 else "error",
            "system": rng.random() < 0.3,
            "deployment_name": f"deployment-{n % 20}",
            "deployment_version": "v1",
            "deployment_version_revision_id": "5b0c0a4e-8d0b-4a35-9c1f-1a2b3c4d5e6f",
        }
        if rng.random() < 0.6:
            record["deployment_request_id"] = "ee63f938-ba81-438e-8482-9ac76037895f"
        if rng.random() < 0.2:
            record |= {
                "pipeline_name": "pipeline-1",
                "pipeline_version": "v1",
                "pipeline_object_name": "object-1",
                "pipeline_request_id": "8bb6ed79-8606-4acf-acd2-90507130523c",
            }
        logs.append(record)
    return logs


def cpu_seconds(run: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds of all threads, wall seconds) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return time.process_time() - cpu, time.perf_counter() - wall


def normalize_in(batches: list[list[dict[str, Any]]]) -> Callable[[], object]:
    def run() -> None:
        for batch in batches:
            result = normalize("logs", batch, project="p", extracted_at=NOW)
            assert result.rejects.height == 0

    return run


def added_fields(logs: list[dict[str, Any]], repeat: int) -> None:
    """The cost of a field the API adds to every log, which lands in `_extra`."""
    added: dict[str, object] = {"text": "hook-1", "integer": 3, "nested": {"k": [1, 2]}}
    print(f"\nOne field added to every log ({len(logs):,} logs, scaled to 1M)\n")
    print("| added field | CPU s / 1M, pages of 500 | CPU s / 1M, batches of 50,000 |")
    print("|---|---|---|")
    scale = 1_000_000 / len(logs)
    for kind, value in {"none": None, **added}.items():
        records = logs if value is None else [log | {"new_field": value} for log in logs]
        cells = []
        for size in (500, 50_000):
            batches = [records[i : i + size] for i in range(0, len(records), size)]
            best = min(cpu_seconds(normalize_in(batches))[0] for _ in range(repeat))
            cells.append(f"{best * scale:.3f}")
        print(f"| {kind} | {cells[0]} | {cells[1]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = parser.parse_args()
    logs = make_logs(args.logs)
    scale = 1_000_000 / args.logs
    print(f"{args.logs:,} logs; CPU s per 1,000,000 (best of {args.repeat}), wall s\n")
    print("| batch size | calls | CPU s / 1M logs | wall s / 1M logs |")
    print("|---|---|---|---|")
    for size in (500, 2_000, 10_000, 50_000, args.logs):
        batches = [logs[i : i + size] for i in range(0, len(logs), size)]
        best = min(cpu_seconds(normalize_in(batches)) for _ in range(args.repeat))
        label = f"{size:,}" + (" (one batch)" if size == args.logs else "")
        print(f"| {label} | {len(batches):,} | {best[0] * scale:.3f} | {best[1] * scale:.3f} |")
    added_fields(logs[:200_000], args.repeat)
    present = {k: pl.String() for k in set().union(*logs)} | {"system": pl.Boolean()}
    pages = [logs[i : i + 500] for i in range(0, len(logs), 500)]
    floor = min(
        cpu_seconds(lambda: [pl.from_dicts(p, schema=present) for p in pages])[0]
        for _ in range(args.repeat)
    )
    texts = [json.dumps(p).encode() for p in pages]
    decode = min(cpu_seconds(lambda: [json.loads(t) for t in texts])[0] for _ in range(2))
    read = min(
        cpu_seconds(lambda: [pl.read_json(t, schema=present) for t in texts])[0] for _ in range(2)
    )
    print("\n| for scale (pages of 500) | CPU s / 1M logs |")
    print("|---|---|")
    print(f"| `pl.from_dicts` alone (the floor of a dict input) | {floor * scale:.3f} |")
    print(f"| `json.loads` of the pages (the extractor's share) | {decode * scale:.3f} |")
    print(f"| `pl.read_json` of the page bytes, same schema | {read * scale:.3f} |")
    infer = min(
        cpu_seconds(lambda: [pl.read_json(t, infer_schema_length=None) for t in texts])[0]
        for _ in range(2)
    )
    print(f"| `pl.read_json` of the page bytes, inferring every field | {infer * scale:.3f} |")
    try:
        import orjson  # a dependency of prefect, not of this project
    except ImportError:
        return
    fast = min(cpu_seconds(lambda: [orjson.loads(t) for t in texts])[0] for _ in range(2))
    print(f"| `orjson.loads` of the pages | {fast * scale:.3f} |")


if __name__ == "__main__":
    main()
