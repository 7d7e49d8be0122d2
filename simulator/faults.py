"""Fault injection: a seeded plan (`Faults`) and the ASGI middleware that carries it out.

The middleware wraps the whole app, so a fault never depends on the handler: it can refuse a
call (429, 5xx), delay it, drop the connection, or cut the body it sends. Faults that need
knowledge of records (invalid records, clamped limits, data changing under a pager) are read
by the stream handlers from the same `Faults` value.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from simulator.context import SimContext

RAW_SEND_KEY = "simulator.raw_send"
Sleep = Callable[[float], Awaitable[None]]
Classifier = Callable[[str, str], tuple[str, str]]


@dataclass(frozen=True)
class Faults:
    """What can go wrong, all off by default; `seed` makes every run reproducible."""

    p_429: float = 0.0
    p_5xx: float = 0.0
    latency_s: float = 0.0
    p_drop: float = 0.0
    p_truncate: float = 0.0
    rate_limit_per_min: int | None = None
    clamp_limit: int | None = None
    p_invalid: float = 0.0
    mutate_during_paging: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("p_429", "p_5xx", "p_drop", "p_truncate", "p_invalid"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1]")
        if self.latency_s < 0:
            raise ValueError("latency_s must not be negative")
        for name in ("rate_limit_per_min", "clamp_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1")

    def corruption(self, record_id: str) -> int | None:
        """Which corruption (0-4) this record is always served with, or None if it is valid.

        A function of the seed and the id, so re-reading a page serves the same bad records.
        """
        if self.p_invalid <= 0:
            return None
        digest = hashlib.blake2b(f"{self.seed}:{record_id}".encode(), digest_size=8).digest()
        roll = int.from_bytes(digest[:4], "big") / 2**32
        return digest[4] % 5 if roll < self.p_invalid else None


class RateLimiter:
    """Fixed one-minute windows per endpoint group, on the injected clock."""

    def __init__(self, per_minute: int | None) -> None:
        self.per_minute = per_minute
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, group: str, now_ns: int) -> tuple[int | None, int, int, bool]:
        """Count one call: (limit or None when none is enforced, remaining, seconds until
        reset, over the limit?)."""
        now_s = now_ns / 1e9
        window = int(now_s // 60)
        start, count = self._windows.get(group, (window, 0))
        count = count + 1 if start == window else 1
        self._windows[group] = (window, count)
        limit = self.per_minute
        reset = max(1, int((window + 1) * 60 - now_s + 0.999))
        if limit is None:
            return None, 0, reset, False
        return limit, max(0, limit - count), reset, count > limit


class FaultMiddleware:
    """Outermost ASGI layer: stats, rate-limit headers, and the transport-level faults."""

    def __init__(
        self, app: ASGIApp, context: SimContext, classify: Classifier, sleep: Sleep
    ) -> None:
        self.app = app
        self.context = context
        self.classify = classify
        self.sleep = sleep
        self.limiter = RateLimiter(context.faults.rate_limit_per_min)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx, faults = self.context, self.context.faults
        operation, group = self.classify(scope["method"], scope["path"])
        ctx.stats.count_call(operation, group)
        limit, remaining, reset, over = self.limiter.hit(group, ctx.now_ns())
        # Like UbiOps, every response states the enforced limit; a simulator that enforces
        # none says nothing (clients then pace by their own settings only).
        headers = (
            []
            if limit is None
            else [
                (b"x-ratelimit-limit", str(limit).encode()),
                (b"x-ratelimit-remaining", str(remaining).encode()),
            ]
        )
        if faults.latency_s > 0:
            ctx.stats.count_fault("latency")
            await self.sleep(faults.latency_s)
        if over or self._roll(faults.p_429):
            ctx.stats.count_fault("rate_limit" if over else "429")
            await self._too_many(send, headers, reset)
        elif self._roll(faults.p_drop):
            ctx.stats.count_fault("drop")
            await _drop_connection(scope.get(RAW_SEND_KEY, send))
        elif self._roll(faults.p_5xx):
            ctx.stats.count_fault("5xx")
            await self._server_error(send, headers)
        else:
            truncate = self._roll(faults.p_truncate)
            await self.app(scope, receive, self._wrap_send(send, headers, truncate))

    def _roll(self, probability: float) -> bool:
        return probability > 0 and self.context.rng.random() < probability

    async def _too_many(self, send: Send, headers: list[tuple[bytes, bytes]], reset: int) -> None:
        extra = [(b"x-ratelimit-reset", str(reset).encode()), (b"retry-after", str(reset).encode())]
        body = json.dumps({"error": "Rate limit exceeded, try again later"}).encode()
        await self._send_whole(send, 429, b"application/json", body, headers + extra)

    async def _server_error(self, send: Send, headers: list[tuple[bytes, bytes]]) -> None:
        status = self.context.rng.choice((500, 502, 503))
        if status == 502:  # gateways answer in HTML, not JSON
            body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            await self._send_whole(send, status, b"text/html", body, headers)
            return
        body = json.dumps({"error": "Internal server error, please try again"}).encode()
        await self._send_whole(send, status, b"application/json", body, headers)

    async def _send_whole(
        self,
        send: Send,
        status: int,
        media: bytes,
        body: bytes,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        self.context.stats.count_status(status)
        all_headers = [(b"content-type", media), (b"content-length", str(len(body)).encode())]
        await send(
            {"type": "http.response.start", "status": status, "headers": all_headers + headers}
        )
        await send({"type": "http.response.body", "body": body})

    def _wrap_send(self, send: Send, headers: list[tuple[bytes, bytes]], truncate: bool) -> Send:
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.context.stats.count_status(message["status"])
                started.update(message)
                started["headers"] = list(message.get("headers", [])) + headers
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            if truncate and started.get("status") == 200 and len(body) > 2:
                self.context.stats.count_fault("truncate")
                body = body[: self.context.rng.randrange(1, len(body))]
            started["headers"] = [
                (k, v) for k, v in started["headers"] if k.lower() != b"content-length"
            ]
            started["headers"].append((b"content-length", str(len(body)).encode()))
            await send(started)
            await send({"type": "http.response.body", "body": body})

        return wrapped


async def _drop_connection(send: Send) -> None:
    """Close the socket without a response; without a socket (ASGITransport), raise what
    httpx raises when a server hangs up."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    transport.abort()
    for _ in range(3):  # let the server notice the disconnect so it does not answer 500
        await asyncio.sleep(0)
