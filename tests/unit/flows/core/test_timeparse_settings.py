"""Times and settings as users type them, and the errors they get when they mistype."""

from datetime import UTC, datetime, timedelta

import pydantic
import pytest

from flows.core.settings import MissingToken, Settings
from flows.core.timeparse import BadTime, parse_age, parse_instant

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("90m", NOW - timedelta(minutes=90)),
        ("now", NOW),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T10:00:00Z", datetime(2026, 11, 1, 10, tzinfo=UTC)),
        ("2026-11-01T12:00:00+02:00", datetime(2026, 11, 1, 10, tzinfo=UTC)),
    ],
)
def test_parse_instant_accepts_iso_and_ages(text, expected):
    """ISO 8601 (naive means UTC, offsets converted) and ages before now all parse to UTC."""
    assert parse_instant(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "7 days", "2026-13-01", ""])
def test_parse_instant_rejects_garbage_with_a_hint(text):
    """Anything else is refused with a message that shows the accepted forms."""
    with pytest.raises(BadTime, match="ISO 8601"):
        parse_instant(text, now=NOW)


def test_parse_age_units():
    """Every unit converts; a bare number is refused."""
    assert parse_age("2w") == timedelta(weeks=2)
    assert parse_age("1.5h") == timedelta(minutes=90)
    with pytest.raises(BadTime):
        parse_age("15")


def test_settings_read_env_and_hide_the_token(monkeypatch):
    """Settings come from the environment, split lists, and never show the token."""
    monkeypatch.setenv("UBIOPS_API_TOKEN", "Token s3cr3t-value")
    monkeypatch.setenv("UBIOPS_API_HOST", "http://127.0.0.1:9/v2.1/")
    monkeypatch.setenv("UBIOPS_ETL_PROJECTS", "alpha, beta")
    monkeypatch.setenv("UBIOPS_ETL_LOOKBACK", "30m")
    settings = Settings()
    assert settings.api_host == "http://127.0.0.1:9/v2.1"
    assert settings.projects == ("alpha", "beta")
    assert settings.lookback == timedelta(minutes=30)
    assert "s3cr3t" not in repr(settings)
    assert "s3cr3t" not in str(settings.model_dump())
    assert settings.require_token().get_secret_value() == "Token s3cr3t-value"


def test_settings_refuse_bad_values(monkeypatch):
    """A missing token, a non-HTTP host or an unknown stream is refused with a clear message."""
    monkeypatch.delenv("UBIOPS_API_TOKEN", raising=False)
    with pytest.raises(MissingToken, match="UBIOPS_API_TOKEN"):
        Settings().require_token()
    with pytest.raises(pydantic.ValidationError, match="http"):
        Settings(api_host="ftp://x")
    with pytest.raises(pydantic.ValidationError):
        Settings(streams=("logs", "metrics"))


@pytest.mark.parametrize(
    ("text", "seconds"), [("300", 300), ("5m", 300), ("PT5M", 300), ("2h", 7200)]
)
def test_durations_take_seconds_ages_and_iso_8601(monkeypatch, text, seconds):
    """A duration setting such as UBIOPS_ETL_LEASE_TTL takes plain seconds, an age or ISO 8601."""
    monkeypatch.setenv("UBIOPS_ETL_LEASE_TTL", text)
    assert Settings().lease_ttl.total_seconds() == seconds
