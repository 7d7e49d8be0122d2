"""Which UbiOps API the simulator serves; a module of its own so the command line can check
`--api` without importing the server."""

from __future__ import annotations

from typing import Literal

ApiMode = Literal["legacy", "current"]
API_MODES: tuple[ApiMode, ...] = ("legacy", "current")
