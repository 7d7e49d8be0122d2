"""Serve an app with real uvicorn on a loopback socket in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from simulator.app import PREFIX


@dataclass
class ServerHandle:
    """A running server: where it listens, and how to stop it."""

    host: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread
    app: ASGIApp  # the served app, e.g. for `handle.app.state.stats`

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{PREFIX}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind first, so the port (even port 0) is known before the server starts."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


@contextmanager
def serve_in_thread(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, startup_timeout_s: float = 10.0
) -> Iterator[ServerHandle]:
    """Run `app` under uvicorn until the block exits; yields the handle once it accepts calls."""
    sock = bind_socket(host, port)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    handle = ServerHandle(host, sock.getsockname()[1], server, thread, app)
    try:
        deadline = time.monotonic() + startup_timeout_s
        while not server.started:  # waiting for a thread to come up, not for time to pass
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulator server did not start")
            time.sleep(0.005)
        yield handle
    finally:
        handle.stop()
        sock.close()
