"""The entry points of a run: the CLI, the Prefect flows and deployments, the demo, progress
and console output. The run itself is `flows.core`, which imports none of them."""
