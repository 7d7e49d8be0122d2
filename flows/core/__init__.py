"""The run core: settings, the runner over (project, stream) pairs, the streams, the sink,
intervals and the run summary. Plain async Python over extract, transform and warehouse: it
imports neither Prefect nor the command line (typer, click, rich), nor any module of `flows`
outside this package, so every entry point (CLI, Prefect flows, demo, tests, benchmarks)
runs the same code (tests/unit/flows/core/test_boundaries.py keeps it so)."""
