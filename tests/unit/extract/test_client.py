"""The client: auth header, error translation, retries, waits and the token kept secret."""

from __future__ import annotations

import gc
import json
import logging
import weakref

import aiohttp
import httpx
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic import SecretStr
from yarl import URL

from extract import (
    ApiUnavailable,
    AuthError,
    BadRequest,
    ClientConfig,
    ExtractError,
    NotFound,
    PermissionDenied,
    RequestFailed,
    RetryPolicy,
)
from extract.retry import wait_hint

HOST = "https://ubiops.test/v2.1"
TOKEN = "s3cr3t-token-value"


def ok(body: object) -> httpx.Response:
    return httpx.Response(200, json=body)


@pytest.mark.parametrize("given", [TOKEN, f"Token {TOKEN}", f"  Token {TOKEN} "])
async def test_sends_token_header_with_or_without_prefix(make_client, given):
    """The Authorization header is `Token <token>` whether or not the value had the prefix."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return ok([])

    client = make_client(handler, token=SecretStr(given))
    await client.get("/projects")
    assert seen == [f"Token {TOKEN}"]


async def test_builds_urls_from_host_and_path(make_client):
    """Requests go to the configured host plus the API path, with the query parameters."""
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return ok({"name": "p"})

    client = make_client(handler, host=HOST + "/")
    await client.get("/projects/p", {"limit": 5})
    assert urls == [f"{HOST}/projects/p?limit=5"]


async def test_401_is_one_line_naming_host_and_variable_without_retry_or_token(make_client, caplog):
    """A 401 raises AuthError at once: one line, names host and UBIOPS_API_TOKEN, no token."""
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(401, json={"error": f"Invalid token {TOKEN}"})

    client = make_client(handler)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as raised:
        await client.get("/projects")
    message = str(raised.value)
    assert calls == 1
    assert HOST in message
    assert "UBIOPS_API_TOKEN" in message
    assert "\n" not in message
    assert TOKEN not in message
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    ("status", "error"), [(403, PermissionDenied), (404, NotFound), (400, BadRequest)]
)
async def test_client_errors_are_not_retried(make_client, status, error):
    """403, 404 and 400 become their own errors after exactly one call."""
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(status, json={"error": "nope"})

    client = make_client(handler)
    with pytest.raises(error) as raised:
        await client.get("/projects/p")
    assert calls == 1
    assert raised.value.status == status
    assert "/projects/p" in str(raised.value)


async def test_429_waits_for_the_reset_header_then_succeeds(make_client, clock):
    """A 429 with x-ratelimit-reset is retried after exactly that many seconds."""
    responses = [httpx.Response(429, headers={"x-ratelimit-reset": "7"}), ok(["done"])]
    client = make_client(lambda request: responses.pop(0))
    assert await client.get("/projects") == ["done"]
    assert 7.0 in clock.sleeps
    stats = client.stats.groups["general"]
    assert (stats.calls, stats.retries, stats.throttled) == (2, 1, 1)


async def test_retry_after_is_honoured_when_larger(make_client, clock):
    """With both headers, the longer wait wins."""
    headers = {"x-ratelimit-reset": "2", "retry-after": "5"}
    responses = [httpx.Response(429, headers=headers), ok([])]
    client = make_client(lambda request: responses.pop(0))
    await client.get("/projects")
    assert 5.0 in clock.sleeps


async def test_429_holds_the_whole_group(make_client, clock):
    """After a 429 the group's pacer makes the next caller wait as well."""
    responses = [httpx.Response(429, headers={"x-ratelimit-reset": "30"}), ok([]), ok([])]
    client = make_client(lambda request: responses.pop(0), rate_burst=1)
    await client.get("/projects")
    limiter_delay = client.pacing["general"].reserve()
    assert limiter_delay > 0


@pytest.mark.parametrize(
    "failure",
    [
        lambda: httpx.Response(503, json={"error": "busy"}),
        lambda: httpx.Response(200, content=b'[{"id": "trunc'),
        lambda: (_ for _ in ()).throw(httpx.ConnectError("refused")),
        lambda: (_ for _ in ()).throw(httpx.ReadTimeout("slow")),
        lambda: (_ for _ in ()).throw(httpx.RemoteProtocolError("dropped")),
        lambda: httpx.Response(200, headers={"content-encoding": "gzip"}, content=b"not gzip"),
        lambda: httpx.Response(200, content=b"[\xff\xfe]"),
    ],
    ids=["5xx", "truncated-json", "connect", "timeout", "dropped", "broken-gzip", "bad-utf8"],
)
async def test_transient_failures_are_retried(make_client, no_wait, failure):
    """5xx, broken JSON or gzip, refused/dropped connections and timeouts are retried."""
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            return failure()
        return ok([1])

    client = make_client(handler, retry=no_wait)
    assert await client.get("/projects") == [1]
    assert attempts == 3
    assert client.stats.retries == 2


async def test_exhausted_retries_name_host_attempts_and_status(make_client, clock):
    """When every attempt fails, ApiUnavailable names the host, attempts and last status."""
    client = make_client(
        lambda request: httpx.Response(502), retry=RetryPolicy(wait=False, max_attempts=3)
    )
    with pytest.raises(ApiUnavailable) as raised:
        await client.get("/projects")
    assert raised.value.attempts == 3
    assert raised.value.last_status == 502
    assert HOST in str(raised.value)
    assert "GET /projects" in str(raised.value)
    assert "502" in str(raised.value)
    assert clock.sleeps == [0.0, 0.0]


async def test_total_time_budget_stops_retrying(make_client, clock):
    """Retries stop once the next wait would pass the total budget, before max attempts."""
    policy = RetryPolicy(max_attempts=100, max_total_s=10, backoff_base_s=1, backoff_max_s=4)
    client = make_client(
        lambda request: httpx.Response(429, headers={"retry-after": "4"}), retry=policy
    )
    with pytest.raises(ApiUnavailable) as raised:
        await client.get("/projects")
    assert raised.value.attempts < 100
    assert sum(clock.sleeps) <= 10 + 4


async def test_backoff_grows_without_hints(make_client, clock):
    """Without server hints the waits grow exponentially (with jitter) up to the cap."""
    policy = RetryPolicy(max_attempts=6, backoff_base_s=1, backoff_max_s=100)
    client = make_client(lambda request: httpx.Response(500), retry=policy)
    with pytest.raises(ApiUnavailable):
        await client.get("/projects")
    retry_waits = [s for s in clock.sleeps if s > 0]
    assert len(retry_waits) == 5
    assert retry_waits[-1] > retry_waits[0]


async def test_wait_switch_turns_every_wait_off(make_client, clock):
    """RetryPolicy(wait=False) retries a 429 without sleeping for its reset header."""
    responses = [httpx.Response(429, headers={"x-ratelimit-reset": "60"}), ok([])]
    client = make_client(lambda request: responses.pop(0), retry=RetryPolicy(wait=False))
    await client.get("/projects")
    assert all(s == 0 for s in clock.sleeps)


def test_token_is_masked_in_config_and_client_reprs(make_client):
    """Neither the config nor the client shows the token in repr or str."""
    client = make_client(lambda request: ok([]))
    for text in (repr(client.config), str(client.config), repr(client)):
        assert TOKEN not in text


def test_from_env_reads_token_and_host_only_when_asked():
    """from_env takes the token and host from the given environment mapping."""
    config = ClientConfig.from_env({"UBIOPS_API_TOKEN": TOKEN, "UBIOPS_API_HOST": HOST + "/"})
    assert config.host == HOST
    assert config.authorization == f"Token {TOKEN}"


def test_wait_hint_reads_seconds_and_http_dates():
    """Hints come as seconds or as an HTTP date; garbage is ignored."""
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    date_header = httpx.Headers({"retry-after": "Thu, 01 Jan 2026 00:00:09 GMT"})
    assert wait_hint(date_header, now) == 9.0
    assert wait_hint(httpx.Headers({"x-ratelimit-reset": "nonsense"}), now) is None
    assert wait_hint(httpx.Headers({}), now) is None


async def test_post_bodies_are_sent_as_json(make_client):
    """A request body goes out as JSON."""
    from extract import ApiRequest

    bodies: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return ok([])

    client = make_client(handler)
    await client.send(ApiRequest("POST", "/projects/p/logs", body={"limit": 3}))
    assert bodies == [{"limit": 3}]


async def test_open_client_builds_a_working_client_over_a_transport(clock):
    """open_client wires config, transport and clock into a client that sends requests."""
    from extract import open_client

    transport = httpx.MockTransport(lambda request: ok([{"name": "p"}]))
    config = ClientConfig(host=HOST, token=SecretStr(TOKEN), rate_per_minute=60, rate_burst=1)
    async with open_client(config, transport=transport, clock=clock) as client:
        await client.get("/projects")
        await client.get("/projects")
    assert client.stats.calls == 2
    assert clock.sleeps == [1.0]


async def test_in_flight_requests_never_exceed_max_concurrency(make_client):
    """However many callers, at most max_concurrency requests are in flight at once."""
    import asyncio

    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):  # yield to the other callers while "on the wire"
            await asyncio.sleep(0)
        in_flight -= 1
        return ok([])

    client = make_client(handler, max_concurrency=3, rate_per_minute=1e9)
    await asyncio.gather(*(client.get("/projects") for _ in range(20)))
    assert peak == 3
    assert client.stats.calls == 20


@pytest.mark.parametrize(
    "raised",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.DecodingError("bad gzip"),
        httpx.TooManyRedirects("loop"),
        httpx.UnsupportedProtocol("ftp"),
        httpx.InvalidURL("bad"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_no_httpx_error_escapes_the_client(make_client, raised):
    """Whatever httpx raises, the caller sees an ExtractError naming the call, not httpx."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    client = make_client(handler, retry=RetryPolicy(wait=False, max_attempts=2))
    with pytest.raises(ExtractError) as caught:
        await client.get("/projects")
    assert not isinstance(caught.value, httpx.HTTPError)
    assert "GET /projects" in str(caught.value)
    assert type(raised).__name__ in str(caught.value)


async def test_redirect_loops_and_bad_urls_are_final(make_client):
    """Failures no retry can fix are raised after one attempt, as RequestFailed."""
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.TooManyRedirects("loop")

    client = make_client(handler, retry=RetryPolicy(wait=False, max_attempts=5))
    with pytest.raises(RequestFailed):
        await client.get("/projects")
    assert attempts == 1


async def test_broken_gzip_exhausting_retries_is_api_unavailable(make_client):
    """A body that never decodes ends as ApiUnavailable, counted as invalid bodies."""
    gzip = {"content-encoding": "gzip"}
    client = make_client(
        lambda request: httpx.Response(200, headers=gzip, content=b"not gzip"),
        retry=RetryPolicy(wait=False, max_attempts=3),
    )
    with pytest.raises(ApiUnavailable) as raised:
        await client.get("/projects")
    assert "DecodingError" in str(raised.value)
    assert client.stats.groups["general"].invalid_bodies == 3


def _malformed_response() -> Exception:
    url = URL(HOST + "/projects")
    info = aiohttp.RequestInfo(url, "GET", CIMultiDictProxy(CIMultiDict()), url)
    return aiohttp.ClientResponseError(info, (), status=400, message="Invalid response status")


@pytest.mark.parametrize(
    "raised",
    [_malformed_response, TimeoutError, aiohttp.ClientError],
    ids=["ClientResponseError", "TimeoutError", "ClientError"],
)
async def test_aiohttp_errors_the_transport_leaves_unmapped_are_retried(make_client, raised):
    """What httpx_aiohttp lets through as aiohttp's own errors (a malformed status line is
    `ClientResponseError`) is retried like httpx's RemoteProtocolError, then ApiUnavailable."""
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise raised()

    client = make_client(handler, retry=RetryPolicy(wait=False, max_attempts=3))
    with pytest.raises(ApiUnavailable) as caught:
        await client.get("/projects")
    assert not isinstance(caught.value, aiohttp.ClientError | TimeoutError)
    assert attempts == 3
    assert client.stats.groups["general"].transport_errors == 3
    assert "GET /projects" in str(caught.value)


async def test_a_mapped_aiohttp_error_is_named_by_what_happened(make_client):
    """httpx_aiohttp maps a dropped connection to `httpx.ConnectTimeout`; the message names
    aiohttp's `ServerDisconnectedError` instead, which says what happened."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("Server disconnected") from aiohttp.ServerDisconnectedError()

    client = make_client(handler, retry=RetryPolicy(wait=False, max_attempts=2))
    with pytest.raises(ApiUnavailable) as caught:
        await client.get("/projects")
    assert "ServerDisconnectedError" in str(caught.value)
    assert "ConnectTimeout" not in str(caught.value)


async def test_a_response_is_freed_when_its_call_returns_not_by_the_cyclic_gc(make_client):
    """A body goes as soon as the call has decoded it: httpx's response and its bound stream
    point at each other, and a cycle waits for a full collection (hundreds of MB of page
    bodies in a backfill of 5,000-log pages), so the client breaks it."""
    sent: list[weakref.ref[httpx.Response]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        response = ok([{"id": "a", "log": "x" * 10_000}])
        sent.append(weakref.ref(response))
        return response

    client = make_client(handler)
    gc.collect()
    gc.disable()
    try:
        body = await client.get("/projects/p/logs")
        assert sent[0]() is None
    finally:
        gc.enable()
    assert body == [{"id": "a", "log": "x" * 10_000}]
