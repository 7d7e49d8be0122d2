"""`ubiops-etl simulator`: the simulator as a standalone server on loopback."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from simulator.modes import API_MODES, ApiMode

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from simulator.faults import Faults

# `ubiops-etl` mounts this command at start-up: the server, the world generator and uvicorn
# are imported only when it runs.


def run_server(
    host: str,
    port: int,
    seed: int,
    token: str | None,
    faults: Faults,
    live: bool,
    *,
    projects: int = 3,
    days: float = 10.0,
    logs_per_day: float = 2_000.0,
    requests_per_day: float = 200.0,
    log_limit_max: int = 500,
    api: ApiMode = "legacy",
    echo: Callable[[str], None] = print,
) -> None:
    """Generate a world relative to the real clock and serve it until interrupted."""
    from simulator.app import PREFIX, create_app
    from simulator.clock import SystemClock
    from simulator.generate import WorldSpec, generate_world
    from simulator.server import bind_socket

    clock = SystemClock()
    spec = WorldSpec(
        seed=seed,
        projects=projects,
        days=days,
        logs_per_day=logs_per_day,
        requests_per_day=requests_per_day,
        token=token,
    )
    world = generate_world(spec, now=clock.now())
    app = create_app(
        world, clock=clock, faults=faults, log_limit_max=log_limit_max, live=live, api=api
    )
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    if not ipaddress.ip_address(sock.getsockname()[0]).is_loopback:
        echo(f"warning: listening on {host}, not loopback: anyone who can reach it gets in")
    echo(f"UbiOps API simulator ({api} API): projects {', '.join(world.project_names)}")
    echo(f"UBIOPS_API_HOST=http://{url_host}:{bound_port}{PREFIX}")
    # The simulator's token is not a secret: it only opens this local stand-in.
    echo(f"UBIOPS_API_TOKEN='Token {world.token}'")
    serve_forever(app, sock)


def serve_forever(app: Starlette, sock: socket.socket) -> None:
    """Block serving `app` on the bound socket until interrupted (Ctrl-C)."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


app = typer.Typer(help="Run the embedded UbiOps API simulator as a standalone server.")


@app.callback(invoke_without_command=True)
def simulator(
    host: Annotated[
        str, typer.Option(envvar="UBIOPS_SIM_HOST", help="Interface to bind (loopback by default).")
    ] = ("127.0.0.1"),
    port: Annotated[
        int,
        typer.Option(
            envvar="UBIOPS_SIM_PORT",
            min=0,
            max=65535,
            help="Port to listen on (0 picks a free one).",
        ),
    ] = 8765,
    seed: Annotated[
        int, typer.Option(envvar="UBIOPS_SIM_SEED", help="Seed of the generated world.")
    ] = 0,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="UBIOPS_SIM_TOKEN", help="API token to accept (default: derived from the seed)."
        ),
    ] = None,
    live: Annotated[
        bool, typer.Option(envvar="UBIOPS_SIM_LIVE", help="New requests and logs keep arriving.")
    ] = False,
    p_429: Annotated[
        float, typer.Option("--p-429", envvar="UBIOPS_SIM_P_429", help="Probability of a 429.")
    ] = 0.0,
    p_5xx: Annotated[
        float,
        typer.Option("--p-5xx", envvar="UBIOPS_SIM_P_5XX", help="Probability of a 500/502/503."),
    ] = 0.0,
    latency_ms: Annotated[
        int,
        typer.Option(
            envvar="UBIOPS_SIM_LATENCY_MS", min=0, help="Latency added to every call (ms)."
        ),
    ] = 0,
    p_drop: Annotated[
        float, typer.Option(envvar="UBIOPS_SIM_P_DROP", help="Probability of a dropped connection.")
    ] = 0.0,
    p_truncate: Annotated[
        float, typer.Option(envvar="UBIOPS_SIM_P_TRUNCATE", help="Probability of a cut JSON body.")
    ] = 0.0,
    rate_limit_per_min: Annotated[
        int | None,
        typer.Option(
            envvar="UBIOPS_SIM_RATE_LIMIT_PER_MIN",
            help="Enforced calls per minute per endpoint group.",
        ),
    ] = None,
    clamp_limit: Annotated[
        int | None,
        typer.Option(
            envvar="UBIOPS_SIM_CLAMP_LIMIT", help="Silently cap `limit` of requests/audit lists."
        ),
    ] = None,
    p_invalid: Annotated[
        float, typer.Option(envvar="UBIOPS_SIM_P_INVALID", help="Share of records served invalid.")
    ] = 0.0,
    mutate: Annotated[
        bool,
        typer.Option(envvar="UBIOPS_SIM_MUTATE", help="Add/expire records while clients page."),
    ] = False,
    fault_seed: Annotated[
        int, typer.Option(envvar="UBIOPS_SIM_FAULT_SEED", help="Seed of the fault dice.")
    ] = 0,
    projects: Annotated[
        int, typer.Option(envvar="UBIOPS_SIM_PROJECTS", min=1, help="Projects in the organisation.")
    ] = 3,
    days: Annotated[
        float, typer.Option(envvar="UBIOPS_SIM_DAYS", min=0.1, help="Days of history to generate.")
    ] = 10.0,
    logs_per_day: Annotated[
        float,
        typer.Option(envvar="UBIOPS_SIM_LOGS_PER_DAY", min=0, help="Logs per project per day."),
    ] = 2_000.0,
    requests_per_day: Annotated[
        float,
        typer.Option(
            envvar="UBIOPS_SIM_REQUESTS_PER_DAY", min=0, help="Requests per project per day."
        ),
    ] = 200.0,
    log_limit_max: Annotated[
        int,
        typer.Option(
            envvar="UBIOPS_SIM_LOG_LIMIT_MAX", min=1, help="Maximum `limit` of the logs call."
        ),
    ] = 500,
    api: Annotated[
        str,
        typer.Option(
            envvar="UBIOPS_SIM_API",
            help="API served: legacy (API.md v2.1: POST /logs) or current (GET /logs, requests "
            "list of client 4.6+; POST /logs answers 404).",
        ),
    ] = "legacy",
) -> None:
    """Serve a generated UbiOps v2.1 API and print the two lines to point a client at it."""
    if api not in API_MODES:
        raise typer.BadParameter(f"--api must be one of {', '.join(API_MODES)}")
    from simulator.faults import Faults

    try:
        faults = Faults(
            p_429=p_429,
            p_5xx=p_5xx,
            latency_s=latency_ms / 1000,
            p_drop=p_drop,
            p_truncate=p_truncate,
            rate_limit_per_min=rate_limit_per_min,
            clamp_limit=clamp_limit,
            p_invalid=p_invalid,
            mutate_during_paging=mutate,
            seed=fault_seed,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    run_server(
        host,
        port,
        seed,
        token,
        faults,
        live,
        projects=projects,
        days=days,
        logs_per_day=logs_per_day,
        requests_per_day=requests_per_day,
        log_limit_max=log_limit_max,
        api=api,
        echo=typer.echo,
    )
