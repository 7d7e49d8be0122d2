"""Expected failures: one base class carrying the exit code, and one translation of the
extract and warehouse trees into it."""

from __future__ import annotations

import pytest
import typer

from extract import ApiUnavailable, AuthError, RequestFailed
from extract.config import (
    DEFAULT_HOST,
    DEFAULT_RATE_PER_MINUTE,
    DEFAULT_READ_TIMEOUT_S,
    LOG_LIMIT_CEILING,
    ClientConfig,
)
from flows.cli import run_cli
from flows.core.errors import (
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_USAGE,
    UsageError,
    UserError,
    as_user_error,
)
from flows.core.runner import client_config
from flows.core.settings import MissingToken, Settings
from flows.core.timeparse import BadTime
from warehouse.errors import LeaseBusy, NotALake, QueryRefused, WarehouseError


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("unknown --format"), EXIT_USAGE),
        (MissingToken("no token"), EXIT_USAGE),
        (BadTime("not a time"), EXIT_USAGE),
        (QueryRefused("writes are refused"), EXIT_USAGE),
        (LeaseBusy("acme/logs", {"pid": 1}), EXIT_BUSY),
        (NotALake("no lake at s3://b/x"), EXIT_USAGE),
        (AuthError("401", status=401, url="u"), EXIT_FAILED),
        (ApiUnavailable("gave up", attempts=8, last_status=503), EXIT_FAILED),
        (RequestFailed("redirect loop"), EXIT_FAILED),
        (WarehouseError("disk full"), EXIT_FAILED),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_every_expected_failure_becomes_a_user_error_with_its_exit_code(error, code):
    """Flags, token, times, a missing lake, a busy lease, API and warehouse failures each
    map to one exit code."""
    translated = as_user_error(error)
    assert isinstance(translated, UserError)
    assert translated.exit_code == code
    with pytest.raises(typer.Exit) as exited:
        run_cli(lambda: (_ for _ in ()).throw(error))
    assert exited.value.exit_code == code


def test_a_bug_keeps_its_traceback():
    """An unexpected exception is not translated: it propagates as itself."""
    assert as_user_error(KeyError("x")) is None
    with pytest.raises(KeyError):
        run_cli(lambda: {}["x"])


def test_settings_take_the_client_defaults_so_the_two_cannot_disagree():
    """Host, rate, timeout and log page size default to extract.config's values."""
    settings = Settings(api_token="t")
    config = client_config(settings)
    bare = ClientConfig(token="t")
    assert settings.api_host == config.host == bare.host == DEFAULT_HOST
    assert settings.rate_per_minute == config.rate_per_minute == bare.rate_per_minute
    assert config.rate_per_minute == DEFAULT_RATE_PER_MINUTE
    assert config.read_timeout_s == bare.read_timeout_s == DEFAULT_READ_TIMEOUT_S
    assert config.log_page_size == bare.log_page_size == LOG_LIMIT_CEILING
    assert config.log_api == bare.log_api == settings.api == "auto"
    assert config.max_concurrency == bare.max_concurrency


def test_a_log_page_size_the_client_refuses_is_refused_by_the_settings():
    """Settings and client agree on the smallest log page (2: one would only repeat the cursor)."""
    with pytest.raises(ValueError, match="page_size"):
        Settings(page_size=1)
