"""Datetime parsing of every documented form, and error messages that stay on one line."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from extract import AuthError, UnexpectedResponse, iter_audit_events
from extract.timeutil import ceil_seconds, format_api_datetime, parse_api_datetime

WHEN = datetime(2020, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2020-01-01T00:00:00.123456Z",
        "2020-01-01T00:00:00.123456+00:00",
        "2020-01-01T00:00:00.123456789Z",
        "2020-01-01T00:00:00.123456789+00:00",
        "2020-01-01T01:00:00.123456+01:00",
        "2020-01-01T00:00:00.123456",
    ],
)
def test_every_documented_date_form_parses_to_the_same_utc_instant(text):
    """6 or 9 fractional digits, Z, +00:00, other offsets or none: one UTC instant."""
    assert parse_api_datetime(text) == WHEN


@given(st.datetimes(timezones=st.just(UTC)))
def test_format_then_parse_is_identity(moment):
    """What we send is read back as the same instant."""
    assert parse_api_datetime(format_api_datetime(moment)) == moment


def test_ceil_seconds_always_reaches_the_end():
    """The date_range reaches at least the window end and is never below one second."""
    assert ceil_seconds(WHEN, WHEN) == 1
    assert ceil_seconds(WHEN, datetime(2020, 1, 1, 0, 0, 2, tzinfo=UTC)) == 2


async def test_multi_line_server_message_becomes_one_line(make_client):
    """A server error text with newlines still yields a one-line message."""
    body = {"error": "bad\ntoken\n\n  try again"}
    client = make_client(lambda request: httpx.Response(401, json=body))
    with pytest.raises(AuthError) as raised:
        await client.get("/projects")
    assert "\n" not in str(raised.value)
    assert "bad token try again" in str(raised.value)


async def test_object_where_a_list_is_documented_is_refused(make_client):
    """A list endpoint answering with an object that is no paginated envelope raises
    UnexpectedResponse."""
    client = make_client(lambda request: httpx.Response(200, json={"items": []}))
    with pytest.raises(UnexpectedResponse):
        async for _ in iter_audit_events(client, "p"):
            pass


@given(
    moment=st.datetimes(min_value=datetime(1970, 1, 1), timezones=st.just(UTC)),
    digits=st.integers(0, 9),
    extra=st.integers(0, 999),
    suffix=st.sampled_from(["Z", "+00:00", ""]),
)
def test_any_fraction_length_parses_to_the_truncated_microsecond(moment, digits, extra, suffix):
    """0-9 fractional digits with any suffix give the instant cut to whole microseconds."""
    micro = f"{moment.microsecond:06d}{extra:03d}"[:digits]
    fraction = f".{micro}" if digits else ""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + suffix
    expected = moment.replace(microsecond=int(micro[:6].ljust(6, "0")) if digits else 0)
    assert parse_api_datetime(text) == expected
