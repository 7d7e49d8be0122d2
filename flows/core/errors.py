"""Expected failures end with one line that says what to fix, and a non-zero exit code.

Exit codes: 0 everything synced; 1 a run failed or finished incomplete; 2 bad flag, setting or
input; 3 nothing could run: every (project, stream) is being written by another run. Every
expected failure is a `UserError` that carries its exit code, or an error of extract or
warehouse that `as_user_error` translates into one. Unexpected errors keep their traceback,
since those are bugs to report. The command line turns them into its exit (`flows.cli.run_cli`).
"""

from __future__ import annotations

from typing import Any

import pydantic

from warehouse.errors import LeaseBusy, NotALake, QueryRefused, WarehouseError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3


class UserError(Exception):
    """A failure the user can act on; the message says how, `exit_code` is the CLI's exit."""

    exit_code: int = EXIT_FAILED

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(UserError, ValueError):
    """A flag or argument the user must change (unknown project, stream, format...)."""

    exit_code = EXIT_USAGE


class RunIncomplete(UserError):
    """A run that finished with (project, stream) pairs or projects that did not sync; its
    ledger record says which. The Prefect flows end their flow run Failed with it once the
    summary is recorded and published (a caller of the flow gets it raised); the CLI prints
    the ledger and exits 1."""

    exit_code = EXIT_FAILED

    def __init__(self, ledger: dict[str, Any]) -> None:
        failed = [
            f"{s['stream']}:{s['project']}"
            for s in ledger["streams"]
            if not s["ok"] and not s.get("busy")
        ]
        parts = [f"{len(failed)} (project, stream) failed: {', '.join(failed)}"] if failed else []
        if ledger["skipped_projects"]:
            parts.append(f"projects skipped: {', '.join(ledger['skipped_projects'])}")
        if ledger.get("error"):
            parts.append(str(ledger["error"]))
        super().__init__(f"{ledger['kind']} {ledger['run_id']} incomplete: {'; '.join(parts)}")
        self.ledger = ledger

    def __reduce__(self) -> tuple[type[RunIncomplete], tuple[dict[str, Any]]]:
        return type(self), (self.ledger,)  # pickles (a flow run's state may hold it)


def _settings_message(exc: pydantic.ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
    return f"invalid {where}: {first.get('msg', 'bad value')}"


def as_user_error(exc: BaseException) -> UserError | None:
    """The expected failure `exc` as a `UserError`, or None for a bug (keep its traceback).

    The packages below flows raise their own trees (they cannot import flows); this is the
    one place that decides their exit codes. The extractor's errors are imported only here,
    when something failed, so commands that never call the API start without the HTTP stack.
    """
    from extract.errors import ExtractError

    if isinstance(exc, UserError):
        return exc
    if isinstance(exc, pydantic.ValidationError):
        return UsageError(_settings_message(exc))
    if isinstance(exc, QueryRefused | NotALake):
        return UsageError(str(exc))
    if isinstance(exc, LeaseBusy):
        message = f"{exc}; wait for it to finish or stop it, then retry"
        return UserError(message, exit_code=EXIT_BUSY)
    if isinstance(exc, ExtractError | WarehouseError):
        return UserError(str(exc))
    return None
