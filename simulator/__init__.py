"""An embedded stand-in for the UbiOps v2.1 API: the demo's source and the tests' backend.

    clock = ManualClock(datetime(2026, 11, 28, 12, tzinfo=UTC))
    world = generate_world(WorldSpec(seed=7, projects=3, days=10), now=clock.now())
    app = create_app(world, clock=clock, faults=Faults(p_429=0.05), live=True)
    with serve_in_thread(app) as server:        # or httpx.ASGITransport(app=app)
        ...  # server.base_url, Authorization: Token {world.token}
    world.truth_logs(project)                   # ground truth for exactly-once checks

It imports nothing from extract/transform/warehouse/flows: it must not share their assumptions.
"""

import lazy_loader

# Names load their module on first use (SPEC 1 lazy loading; the names and their modules are
# in __init__.pyi, which type checkers read): the command line's start must not pay for
# modules its command does not use.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
