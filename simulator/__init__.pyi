"""Type stub: the names `__init__.py` loads on first use (lazy_loader.attach_stub)."""

from .app import create_app
from .clock import (
    Clock,
    ManualClock,
    SystemClock,
)
from .faults import Faults
from .generate import (
    WorldSpec,
    generate_world,
)
from .server import (
    ServerHandle,
    serve_in_thread,
)
from .stats import SimStats
from .world import World

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
