"""Expected failures end with one line that says what to fix, and a non-zero exit code.

Exit codes: 0 everything synced; 1 a run failed or finished incomplete; 2 bad flag, setting or
input; 3 nothing could run: every (project, stream) is being written by another run. Unexpected errors keep their traceback, since
those are bugs to report.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pydantic
import typer

from extract.errors import ExtractError
from flows import console
from flows.settings import MissingToken
from flows.timeparse import BadTime
from warehouse.errors import LeaseBusy, NotALake, QueryRefused, WarehouseError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3


class UsageError(ValueError):
    """A flag or argument the user must change (unknown project, stream, format...)."""


def _settings_message(exc: pydantic.ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
    return f"invalid {where}: {first.get('msg', 'bad value')}"


def fail(message: str, code: int) -> typer.Exit:
    console.err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


def run_cli(action: Callable[[], int | None]) -> None:
    """Run a command body; translate expected failures; exit with the body's code."""
    try:
        code = action() or EXIT_OK
    except (BadTime, MissingToken, UsageError, QueryRefused, NotALake) as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except pydantic.ValidationError as exc:
        raise fail(_settings_message(exc), EXIT_USAGE) from None
    except LeaseBusy as exc:
        raise fail(f"{exc}; wait for it to finish or stop it, then retry", EXIT_BUSY) from None
    except (ExtractError, WarehouseError) as exc:
        raise fail(str(exc), EXIT_FAILED) from None
    except httpx.HTTPError as exc:
        raise fail(f"cannot reach the API: {exc}", EXIT_FAILED) from None
    except KeyboardInterrupt:
        raise fail(
            "interrupted; the next run resumes from the last committed cursor", 130
        ) from None
    if code:
        raise typer.Exit(code)
