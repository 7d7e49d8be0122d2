"""An embedded stand-in for the UbiOps v2.1 API: the demo's source and the tests' backend.

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
