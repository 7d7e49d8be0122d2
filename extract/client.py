"""The UbiOps client: auth, pacing, bounded concurrency and the retry loop around one call.

Every response's rate-limit headers (and every 429) feed the endpoint group's budget
(`extract.pacing`: this process's `Pacer`, or a share of one budget several processes draw
from, `extract.budget`), which decides how long the next call of the group waits.

`UbiOpsClient` takes an injected `httpx.AsyncClient` (tests pass a transport); `open_client`
builds a real one with keep-alive and explicit timeouts, over aiohttp's connection pool and
parser (`httpx_aiohttp`): a call costs about a third less CPU than over httpx's own
transport at 500-log pages, an eighth less at 5,000 (bench/http.md). This is the one
boundary where httpx outcomes (and the aiohttp errors the transport leaves unmapped) become
`extract.errors` exceptions.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import httpx
from httpx_aiohttp import HttpxAiohttpClient
from tenacity import RetryCallState, RetryError

from extract.config import ClientConfig
from extract.errors import (
    ApiUnavailable,
    ExtractError,
    RequestFailed,
    api_message,
    error_for_status,
)
from extract.pacing import (
    GROUPS,
    Budget,
    Clock,
    EndpointGroup,
    Pacing,
    RateSignal,
    SystemClock,
    endpoint_group,
    shared_pacing,
)
from extract.retry import RetryableFailure, build_retrying, wait_hint

log = logging.getLogger(__name__)

Params = Mapping[str, str | int]
Decoder = Callable[[bytes], Any]
"""Turns a response body into its value; raises ValueError for a body that is not JSON."""


@dataclass(frozen=True)
class ApiRequest:
    """One call as plain data, so paginators can build the next one without doing I/O."""

    method: str
    path: str
    params: Params = field(default_factory=dict)
    body: Mapping[str, Any] | None = None

    def fingerprint(self) -> str:
        """A stable text form, used to notice a paginator that repeats itself."""
        return json.dumps([self.method, self.path, dict(self.params), self.body], sort_keys=True)


@dataclass
class GroupStats:
    """Counters of one endpoint group, for run summaries."""

    calls: int = 0
    retries: int = 0
    throttled: int = 0
    server_errors: int = 0
    transport_errors: int = 0
    invalid_bodies: int = 0
    paced_s: float = 0.0


@dataclass
class ClientStats:
    """Calls, retries and 429s per endpoint group."""

    groups: dict[EndpointGroup, GroupStats] = field(
        default_factory=lambda: {group: GroupStats() for group in GROUPS}
    )

    @property
    def calls(self) -> int:
        return sum(group.calls for group in self.groups.values())

    @property
    def retries(self) -> int:
        return sum(group.retries for group in self.groups.values())

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {name: dict(vars(group)) for name, group in self.groups.items()}


@dataclass
class ServerTraits:
    """What the client has learned about the server in this run, shared by all its streams:
    which log endpoint and requests list work (`legacy`/`current`) and the log page size
    the server honours."""

    log_api: Literal["legacy", "current"] | None = None
    requests_api: Literal["legacy", "current"] | None = None
    log_limit: int | None = None
    # The server has returned a full page at `log_limit`: a shorter page ends a window.
    limit_trusted: bool = False

    def learn(self, api: Literal["legacy", "current"], limit: int, trusted: bool) -> None:
        """A page came back from `api` asked with `limit` (trusted: it was honoured)."""
        self.log_api = self.log_api or api
        if trusted and not self.limit_trusted:
            self.log_limit, self.limit_trusted = limit, True
        elif not self.limit_trusted and limit != self.log_limit:
            self.log_limit = limit


class UbiOpsClient:
    """Sends `ApiRequest`s: paced per endpoint group, bounded in concurrency, retried."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        config: ClientConfig,
        *,
        clock: Clock | None = None,
        pacing: Budget | None = None,
    ) -> None:
        self._http = http
        self.config = config
        self._clock = clock or SystemClock()
        self.pacing: Budget = pacing or Pacing(
            self._clock, cap_per_minute=config.rate_per_minute, burst=config.rate_burst
        )
        self._slots = asyncio.Semaphore(config.max_concurrency)
        self._headers = {"Authorization": config.authorization, "Accept": "application/json"}
        self.stats = ClientStats()
        self.traits = ServerTraits()

    def __repr__(self) -> str:
        return f"UbiOpsClient(host={self.config.host!r}, calls={self.stats.calls})"

    @property
    def host(self) -> str:
        return self.config.host

    async def get(self, path: str, params: Params | None = None) -> Any:
        return await self.send(ApiRequest("GET", path, params or {}))

    async def send(self, request: ApiRequest, decode: Decoder = json.loads) -> Any:
        """The body of `request` decoded by `decode` (JSON by default), after retries; raises
        `ExtractError` subclasses. A body `decode` refuses with ValueError is retried."""
        group = endpoint_group(request.path)
        retrying = build_retrying(
            self.config.retry, self._clock, lambda state: self._before_retry(state, group, request)
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(request, group, decode)
        except RetryError as exhausted:
            raise self._unavailable(request, exhausted) from None
        raise ExtractError("unreachable: tenacity ended without an outcome")  # pragma: no cover

    async def _attempt(self, request: ApiRequest, group: EndpointGroup, decode: Decoder) -> Any:
        stats = self.stats.groups[group]
        async with self._slots:
            stats.paced_s += await self.pacing[group].acquire()
            stats.calls += 1
            response = await self._exchange(request, stats)
        return self._decode(response, group, decode)

    async def _exchange(self, request: ApiRequest, stats: GroupStats) -> httpx.Response:
        """One HTTP exchange; every httpx failure leaves here as an extract error.

        Timeouts, dropped connections and broken bodies (a bad gzip stream raises
        `httpx.DecodingError`) are worth another attempt; anything else httpx raises (a
        redirect loop, an unusable URL) is final. `httpx_aiohttp` maps aiohttp's connection,
        timeout and payload errors to httpx's; what it leaves unmapped (a malformed status line
        or header arrives as `aiohttp.ClientResponseError`) is what httpx's own transport
        raised as `RemoteProtocolError`, so it is retried the same way.
        """
        url = self.config.host + request.path
        try:
            response = await self._http.request(
                request.method,
                url,
                params=dict(request.params),
                json=request.body,
                headers=self._headers,
                timeout=httpx.Timeout(
                    self.config.read_timeout_s, connect=self.config.connect_timeout_s
                ),
            )
        except httpx.UnsupportedProtocol as error:
            raise RequestFailed(self._failure(request, error)) from None
        except httpx.TransportError as error:
            stats.transport_errors += 1
            reason = self._scrub(_describe(error))
            raise RetryableFailure(reason, status=None, wait_hint_s=None) from error
        except httpx.DecodingError as error:
            stats.invalid_bodies += 1
            reason = self._scrub(_describe(error))
            raise RetryableFailure(reason, status=None, wait_hint_s=None) from error
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as error:
            raise RequestFailed(self._failure(request, error)) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            stats.transport_errors += 1
            reason = self._scrub(_describe(error))
            raise RetryableFailure(reason, status=None, wait_hint_s=None) from error
        return _unbound(response)

    def _failure(self, request: ApiRequest, error: Exception) -> str:
        return (
            f"{self.config.host}: {request.method} {request.path} failed "
            f"({self._scrub(_describe(error))}); no retry can fix this"
        )

    def _decode(self, response: httpx.Response, group: EndpointGroup, decode: Decoder) -> Any:
        stats = self.stats.groups[group]
        status = response.status_code
        pacer = self.pacing[group]
        pacer.observe(RateSignal.from_headers(response.headers))
        if status == 429:
            stats.throttled += 1
            hint = wait_hint(response.headers)
            hold = None if hint is None else min(hint, self.config.retry.max_hint_s)
            pacer.throttled(hold if self.config.retry.wait else None)
            raise RetryableFailure("429 Too Many Requests", status=status, wait_hint_s=hint)
        if status >= 500 or status == 408:
            stats.server_errors += 1
            raise RetryableFailure(
                f"{status} from server", status=status, wait_hint_s=wait_hint(response.headers)
            )
        if status >= 300:
            detail = self._scrub(api_message(response.content))
            raise error_for_status(status, str(response.request.url), self.config.host, detail)
        try:
            return decode(response.content)
        except ValueError:
            stats.invalid_bodies += 1
            raise RetryableFailure(
                "body is not valid JSON (truncated?)", status=status, wait_hint_s=None
            ) from None

    def _before_retry(self, state: RetryCallState, group: EndpointGroup, req: ApiRequest) -> None:
        self.stats.groups[group].retries += 1
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info(
            "retry %d of %s %s after %s; waiting %.2fs",
            state.attempt_number,
            req.method,
            req.path,
            self._scrub(_describe(error)),
            wait,
        )

    def _unavailable(self, request: ApiRequest, exhausted: RetryError) -> ApiUnavailable:
        attempts = exhausted.last_attempt.attempt_number
        error = exhausted.last_attempt.exception()
        status = error.status if isinstance(error, RetryableFailure) else None
        return ApiUnavailable(
            f"{self.config.host} did not answer {request.method} {request.path} usefully "
            f"after {attempts} attempts (last: {self._scrub(_describe(error))}); "
            "try again later or lower the rate",
            attempts=attempts,
            last_status=status,
        )

    def _scrub(self, text: str) -> str:
        """Never let the token through, even if a server echoes it back."""
        secret = self.config.token.get_secret_value().strip()
        bare = secret.removeprefix("Token ").removeprefix("Bearer ").strip()
        for value in {secret, bare} - {""}:
            text = text.replace(value, "***")
        return text


def _describe(error: BaseException | None) -> str:
    """One line about a failed attempt: our own reason as is, an httpx error with its type."""
    if error is None:
        return "no error"
    if isinstance(error, RetryableFailure):
        return str(error)
    if isinstance(error, httpx.HTTPError) and isinstance(error.__cause__, aiohttp.ClientError):
        # httpx_aiohttp calls a dropped connection `ConnectTimeout`: name what happened.
        error = error.__cause__
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _unbound(response: httpx.Response) -> httpx.Response:
    """`response` without its reference cycle, so its body is freed with it.

    httpx wraps a body's stream in one that points back to the response (to set `elapsed`
    when it closes): a cycle only Python's full collections free, and those are rare in a
    process holding many objects. Every body waited for one: in a 1.1M-log backfill of
    5,000-log pages (1.6 MB bodies) up to 150 of them, 230 MB, were held at once
    (bench/decode.md). The body has been read and that stream closed when `request`
    returns, so a plain stream of the same bytes takes its place.
    """
    response.stream = httpx.ByteStream(response.content)
    return response


@asynccontextmanager
async def open_client(
    config: ClientConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    pacing: Budget | None = None,
) -> AsyncIterator[UbiOpsClient]:
    """A client over a keep-alive `httpx.AsyncClient` on aiohttp's transport, paced with
    `pacing` (a budget several processes share) or else the process-wide pacers.

    TLS is httpx's: certificates verified against certifi's CAs, `SSL_CERT_FILE` and
    `SSL_CERT_DIR` honoured (the transport builds its context with `httpx.create_ssl_context`).
    Proxies from the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`) are honoured as
    httpx honours them, through aiohttp too (`HttpxAiohttpClient` builds those transports).
    `transport` and `clock` are for tests; with a clock the pacers are the client's own.
    A client belongs to one event loop; the process-wide pacers are shared across loops.
    """
    pool = httpx.Limits(
        max_connections=config.max_concurrency, max_keepalive_connections=config.max_concurrency
    )
    timeout = httpx.Timeout(config.read_timeout_s, connect=config.connect_timeout_s)
    async with HttpxAiohttpClient(timeout=timeout, limits=pool, transport=transport) as http:
        if clock is not None:
            yield UbiOpsClient(http, config, clock=clock, pacing=pacing)
            return
        budget = pacing or shared_pacing(config.host, config.rate_per_minute, config.rate_burst)
        yield UbiOpsClient(http, config, pacing=budget)
