"""Expected failures end with one line that says what to fix, and a non-zero exit code.

Exit codes: 0 everything synced; 1 a run failed or finished incomplete; 2 bad flag, setting or
input; 3 nothing could run: every (project, stream) is being written by another run.
Unexpected errors keep their traceback, since those are bugs to report.
"""

from __future__ import annotations

from collections.abc import Callable

import pydantic
import typer

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


def _translate(exc: Exception) -> typer.Exit | None:
    """The one-line failure for an expected error, or None for a bug (kept as a traceback).

    The extractor's errors (and httpx's) are imported only here, when something failed, so
    commands that never call the API do not pay for importing the HTTP stack at start-up.
    """
    import httpx

    from extract.errors import ExtractError

    if isinstance(exc, BadTime | MissingToken | UsageError | QueryRefused | NotALake):
        return fail(str(exc), EXIT_USAGE)
    if isinstance(exc, pydantic.ValidationError):
        return fail(_settings_message(exc), EXIT_USAGE)
    if isinstance(exc, LeaseBusy):
        return fail(f"{exc}; wait for it to finish or stop it, then retry", EXIT_BUSY)
    if isinstance(exc, ExtractError | WarehouseError):
        return fail(str(exc), EXIT_FAILED)
    if isinstance(exc, httpx.HTTPError):
        return fail(f"cannot reach the API: {exc}", EXIT_FAILED)
    return None


def run_cli(action: Callable[[], int | None]) -> None:
    """Run a command body; translate expected failures; exit with the body's code."""
    try:
        code = action() or EXIT_OK
    except KeyboardInterrupt:
        raise fail(
            "interrupted; the next run resumes from the last committed cursor", 130
        ) from None
    except Exception as exc:
        translated = _translate(exc)
        if translated is None:
            raise
        raise translated from None
    if code:
        raise typer.Exit(code)
