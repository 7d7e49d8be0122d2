"""An embedded stand-in for the UbiOps v2.1 API: the demo's source and the tests' backend.

    clock = ManualClock(datetime(2026, 11, 28, 12, tzinfo=UTC))
    world = generate_world(WorldSpec(seed=7, projects=3, days=10), now=clock.now())
    app = create_app(world, clock=clock, faults=Faults(p_429=0.05), live=True)
    with serve_in_thread(app) as server:        # or httpx.ASGITransport(app=app)
        ...  # server.base_url, Authorization: Token {world.token}
    world.truth_logs(project)                   # ground truth for exactly-once checks

It imports nothing from extract/transform/warehouse/flows: it must not share their assumptions.
"""

from simulator.app import create_app
from simulator.clock import Clock, ManualClock, SystemClock
from simulator.faults import Faults
from simulator.generate import WorldSpec, generate_world
from simulator.server import ServerHandle, serve_in_thread
from simulator.stats import SimStats
from simulator.world import World

__all__ = [
    "Clock",
    "Faults",
    "ManualClock",
    "ServerHandle",
    "SimStats",
    "SystemClock",
    "World",
    "WorldSpec",
    "create_app",
    "generate_world",
    "serve_in_thread",
]
