"""One ubiops-etl backfill in a fresh process, measuring that process only.

    python -m bench.etl_child '{"host": ..., "token": ..., "warehouse": ..., "since": ...,
                                "until": ..., "concurrency": 8, "rate_per_minute": 100000}'

Runs the Prefect-free core (`flows.core.runner.execute`, the same code the Prefect flow calls;
`flows.runner.execute` in the 0169d41 tree that bench/lake_bench.py compares with)
and prints one JSON line: wall seconds, CPU seconds (user + system, all threads) of the run
alone and of the imports, peak RSS, and the run's summary. With `"profile": "out.html"`
the run is profiled with pyinstrument.
"""

from __future__ import annotations

import resource
import time

T0_WALL = time.perf_counter()
_u0 = resource.getrusage(resource.RUSAGE_SELF)
CPU0 = _u0.ru_utime + _u0.ru_stime

import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from pydantic import SecretStr  # noqa: E402

# bench/lake_bench.py runs this file on the 0169d41 tree too, whose run core is flows/ itself.
# Asked of the imported `flows`, not of `find_spec("flows.core")`: the editable install's
# finder answers that one from the current tree even when `flows` is the old one.
import flows  # noqa: E402

LEGACY_TREE = not (Path(flows.__file__).parent / "core").is_dir()
if LEGACY_TREE:
    from flows.settings import Settings

    from flows import runner
else:
    from flows.core import runner
    from flows.core.settings import Settings


def cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process's peak RSS. `VmHWM` belongs to the process's own address space; Linux's
    `ru_maxrss` also carries the parent's peak across fork + exec, so a child of a big parent
    would report the parent's figure."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    params: dict[str, Any] = json.loads(sys.argv[1])
    settings = Settings(
        api_host=params["host"],
        api_token=SecretStr(params["token"]),
        # A str: the current Settings take a path or an object-store URL (s3://...); the
        # plain-Parquet release of 0169d41 (run by bench/lake_bench.py) coerces it to a Path.
        warehouse=params["warehouse"],
        concurrency=params.get("concurrency", 4),
        rate_per_minute=params.get("rate_per_minute"),
        page_size=params.get("page_size", 500),
        # The 0169d41 tree predates `api` (issue 11): it only has POST /logs, what `auto`
        # picks against the legacy simulator.
        **({"api": params.get("api", "auto")} if "api" in Settings.model_fields else {}),
        **({"streams": tuple(params["streams"])} if params.get("streams") else {}),
    )
    since = datetime.fromisoformat(params["since"])
    until = datetime.fromisoformat(params["until"])
    logger = logging.getLogger("bench.etl")
    if params.get("normalize_rows"):
        # A/B switch for the before/after of the Sink's chunked normalisation (1 = per page).
        import functools

        import flows.core.streams.context as stream_context
        from flows.core.sink import Sink

        stream_context.Sink = functools.partial(  # type: ignore[misc]
            Sink, normalize_rows=params["normalize_rows"]
        )
    import_cpu, import_rss = cpu_now() - CPU0, peak_rss_mb()
    if params.get("no_request_split"):
        # A/B switch for the before/after of paging requests in concurrent sub-windows.
        import flows.core.streams.requests as request_stream

        request_stream.split_request_windows = lambda plan, parts: plan  # type: ignore[assignment]
    profiler = None
    if params.get("profile"):
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="enabled")
        profiler.start()
    cpu1, wall1 = cpu_now(), time.perf_counter()
    if LEGACY_TREE:
        run = runner.execute(
            settings, kind="backfill", since=since, until=until, now=until, logger=logger
        )
    else:
        window = {"since": since.isoformat(), "until": until.isoformat(), "backfill": True}
        run = runner.execute(settings, **window, clock=lambda: until, logger=logger)
    summary = asyncio.run(run)
    wall, cpu = time.perf_counter() - wall1, cpu_now() - cpu1
    if profiler is not None:
        profiler.stop()
        Path(params["profile"]).write_text(profiler.output_html())
        Path(params["profile"]).with_suffix(".txt").write_text(
            profiler.output_text(unicode=False, color=False, show_all=False)
        )
    streams = [
        {
            "project": r.project,
            "stream": r.stream,
            "ok": r.ok,
            "rows_in": r.rows_in,
            "rows_written": r.rows_written,
            "rejects": r.rejects,
            "pages": r.pages,
            "error": r.error,
        }
        for r in summary.results
    ]
    out = {
        "wall_s": wall,
        "cpu_s": cpu,
        "import_cpu_s": import_cpu,
        "import_rss_mb": import_rss,
        "peak_rss_mb": peak_rss_mb(),
        "ok": summary.ok,
        "api_calls": summary.api_calls,
        "retries": summary.retries,
        "throttled": summary.throttled,
        "rows_written": summary.rows_written,
        "streams": streams,
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
