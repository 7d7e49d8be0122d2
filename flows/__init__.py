"""Prefect flows and tasks wiring extract -> transform -> warehouse, and the CLI."""
