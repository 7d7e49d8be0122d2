"""The standalone server command: flags become a fault plan, and it prints paste-ready lines."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from typer.testing import CliRunner

from simulator import Faults, cli


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the blocking serve loop with a recorder of what would have been served."""
    calls: list[dict[str, Any]] = []

    def record(app: Any, sock: socket.socket) -> None:
        calls.append({"app": app, "address": sock.getsockname()})
        sock.close()

    monkeypatch.setattr(cli, "serve_forever", record)
    return calls


def test_command_prints_host_and_token_lines_and_binds_loopback(
    served: list[dict[str, Any]],
) -> None:
    """`simulator --port 0 --token T` binds 127.0.0.1 and prints the two env lines."""
    result = CliRunner().invoke(
        cli.app,
        ["--port", "0", "--seed", "4", "--token", "abc123", "--days", "2", "--logs-per-day", "300"],
    )
    assert result.exit_code == 0, result.output
    host, port = served[0]["address"]
    assert host == "127.0.0.1"
    assert f"UBIOPS_API_HOST=http://127.0.0.1:{port}/v2.1" in result.output.splitlines()
    assert "UBIOPS_API_TOKEN='Token abc123'" in result.output.splitlines()


def test_fault_flags_become_the_apps_fault_plan(served: list[dict[str, Any]]) -> None:
    """Every fault flag reaches the served app's Faults; --live and log limits too."""
    args = [
        "--port",
        "0",
        "--days",
        "2",
        "--logs-per-day",
        "300",
        "--live",
        "--p-429",
        "0.1",
        "--p-5xx",
        "0.2",
        "--latency-ms",
        "150",
        "--p-drop",
        "0.05",
        "--p-truncate",
        "0.04",
        "--rate-limit-per-min",
        "120",
        "--clamp-limit",
        "10",
        "--p-invalid",
        "0.01",
        "--mutate",
        "--fault-seed",
        "9",
        "--log-limit-max",
        "5000",
    ]
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    context = served[0]["app"].state.sim
    assert context.faults == Faults(
        p_429=0.1,
        p_5xx=0.2,
        latency_s=0.15,
        p_drop=0.05,
        p_truncate=0.04,
        rate_limit_per_min=120,
        clamp_limit=10,
        p_invalid=0.01,
        mutate_during_paging=True,
        seed=9,
    )
    assert context.live is True
    assert context.log_limit_max == 5000


@pytest.mark.parametrize(
    "flags",
    [
        ["--p-429", "2"],
        ["--p-invalid", "-0.5"],
        ["--log-limit-max", "0"],
        ["--rate-limit-per-min", "0"],
        ["--port", "70000"],
        ["--api", "v3"],
    ],
)
def test_invalid_values_are_usage_errors(served: list[dict[str, Any]], flags: list[str]) -> None:
    """Out-of-range flags stop the command with a usage error before anything is served."""
    result = CliRunner().invoke(cli.app, ["--port", "0", *flags])
    assert result.exit_code == 2
    assert served == []


def test_non_loopback_host_is_warned_about(served: list[dict[str, Any]]) -> None:
    """Binding all interfaces works but prints a warning; loopback prints none."""
    wide = CliRunner().invoke(cli.app, ["--host", "0.0.0.0", "--port", "0", "--days", "1"])
    narrow = CliRunner().invoke(cli.app, ["--port", "0", "--days", "1"])
    assert wide.exit_code == 0, wide.output
    assert "warning" in wide.output
    assert "warning" not in narrow.output


@pytest.mark.parametrize("api", ["legacy", "current"])
def test_api_flag_picks_the_api_served(served: list[dict[str, Any]], api: str) -> None:
    """`--api current` serves GET /logs and the 4.6+ requests list; legacy serves API.md."""
    result = CliRunner().invoke(
        cli.app, ["--port", "0", "--days", "1", "--logs-per-day", "10", "--api", api]
    )
    assert result.exit_code == 0, result.output
    assert f"({api} API)" in result.output
    routes = {
        (route.name, *sorted(route.methods or ())) for route in served[0]["app"].routes[0].routes
    }
    assert (("logs_list", "GET", "HEAD") in routes) == (api == "current")
