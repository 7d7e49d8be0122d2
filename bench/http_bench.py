"""Issue 14's HTTP layer: CPU seconds and wall time per log-page call, transports A/B.

    python -m bench.http_bench [--logs 300000] [--pages 500,5000] [--calls 2000,300]
        [--repeats 5] [--variants httpx,httpx-aiohttp,aiohttp] [--json out.json]

One simulator (`bench.simproc`, scenario 1's world scaled to `--logs` over 30 days, 20 ms
added to every call, pages of up to 5,000 logs) serves every run. For each page size this
process first pages the whole range once with the product's `iter_logs` (concurrency 8) and
records every `POST /projects/{p}/logs` it sent; each run then replays those calls in a fresh
`bench.http_child` process (one variant, `--calls` calls cycling over the recording,
concurrency 8), which measures its own CPU (user + system, all threads, imports excluded)
and wall time. Variants alternate within each repeat (their order rotates from one repeat to
the next) so a change in the box's load hits them all; `uptime`'s 1-minute load average is
recorded before every run. Prints a table of medians and, with `--json`, writes every run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench import scenarios
from bench.harness import Sim, machine, run_child, simulator
from extract import ClientConfig, RetryPolicy, iter_logs, open_client
from extract.client import ApiRequest

VARIANTS = ("httpx", "httpx-aiohttp", "aiohttp")


async def record_calls(sim: Sim, page: int) -> list[list[Any]]:
    """Every log call of one paging run of the whole range, as `[method, path, params, body]`."""
    config = ClientConfig(
        host=sim.base_url,
        token=SecretStr(sim.token),
        max_concurrency=8,
        rate_per_minute=1e9,
        retry=RetryPolicy(wait=False),
        log_api="legacy",
    )
    sent: list[list[Any]] = []
    async with open_client(config) as client:
        send = client.send

        async def recording(request: ApiRequest) -> Any:
            sent.append([request.method, request.path, dict(request.params), request.body])
            return await send(request)

        client.send = recording  # type: ignore[method-assign]
        project = sim.info["projects"][0]
        since = datetime.fromisoformat(sim.info["since"])
        until = datetime.fromisoformat(sim.info["now"])
        async for _ in iter_logs(client, project, since, until, page_size=page, concurrency=8):
            pass
    return [call for call in sent if call[1].endswith("/logs")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=300_000)
    parser.add_argument("--pages", default="500,5000")
    parser.add_argument("--calls", default="2000,300", help="calls per run, one per page size")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    pages = [int(p) for p in args.pages.split(",")]
    calls = dict(zip(pages, (int(c) for c in args.calls.split(",")), strict=True))
    variants = args.variants.split(",")
    scale = scenarios.Scale(args.logs, 30, 2_000, 1, 1, 0, 0)
    spec = {**scenarios.latency_world(scale), "log_limit_max": 5000, "api": "legacy"}
    out: dict[str, Any] = {"machine": machine(), "spec": spec, "runs": []}
    with simulator(**spec) as sim, tempfile.TemporaryDirectory() as work:
        files = {}
        for page in pages:
            recorded = asyncio.run(record_calls(sim, page))
            files[page] = Path(work) / f"calls-{page}.json"
            files[page].write_text(json.dumps(recorded))
            print(f"page {page}: {len(recorded)} log calls recorded", flush=True)
        for repeat in range(args.repeats):
            turn = variants[repeat % len(variants) :] + variants[: repeat % len(variants)]
            for page in pages:
                for variant in turn:
                    load = os.getloadavg()[0]
                    params = {
                        "variant": variant,
                        "host": sim.base_url,
                        "token": sim.token,
                        "requests": str(files[page]),
                        "calls": calls[page],
                        "concurrency": 8,
                    }
                    r = run_child("bench.http_child", params)
                    r.update(page=page, repeat=repeat, load_1m=load)
                    out["runs"].append(r)
                    print(
                        f"  {repeat} page {page} {variant:14s} {r['cpu_s']:6.2f} CPU s "
                        f"{r['cpu_s'] / r['calls'] * 1000:6.3f} ms/call "
                        f"{r['wall_s']:6.1f} s wall, load {load:.1f}",
                        flush=True,
                    )
    out["machine"]["load average at end"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    out["medians"] = medians(out["runs"], pages, variants)
    print(table(out["medians"], pages, variants))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


def medians(runs: list[dict[str, Any]], pages: list[int], variants: list[str]) -> dict[str, Any]:
    """Per page size and variant: median CPU ms and wall ms per call, and the spread."""
    result: dict[str, Any] = {}
    for page in pages:
        for variant in variants:
            mine = [r for r in runs if r["page"] == page and r["variant"] == variant]
            per_call = [r["cpu_s"] / r["calls"] * 1000 for r in mine]
            result[f"{variant} {page}"] = {
                "cpu_ms_per_call": statistics.median(per_call),
                "cpu_ms_runs": [round(x, 3) for x in per_call],
                "wall_ms_per_call": statistics.median(
                    r["wall_s"] / r["calls"] * 1000 for r in mine
                ),
                "records": mine[0]["records"],
            }
    return result


def table(figures: dict[str, Any], pages: list[int], variants: list[str]) -> str:
    lines = [
        "| logs per call | variant | CPU ms per call (median) | runs | vs httpx | "
        "wall ms per call |",
        "|---|---|---|---|---|---|",
    ]
    for page in pages:
        base = figures.get(f"httpx {page}", {}).get("cpu_ms_per_call")
        for variant in variants:
            f = figures[f"{variant} {page}"]
            ratio = f"{f['cpu_ms_per_call'] / base - 1:+.0%}" if base else "-"
            runs = ", ".join(f"{x:.2f}" for x in f["cpu_ms_runs"])
            lines.append(
                f"| {page:,} | {variant} | {f['cpu_ms_per_call']:.3f} | {runs} | {ratio} | "
                f"{f['wall_ms_per_call']:.2f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
