"""The one retry layer (tenacity): which failures are retried and how long to wait.

Retried: `RetryableFailure` only, which the client raises for 429, 5xx, timeouts,
connection errors and bodies that cannot be decoded (broken gzip, truncated JSON). A 429's
`x-ratelimit-reset` / `Retry-After` sets the wait; other failures back off exponentially
with jitter. Attempts and total time are both capped.
Everything else (401/403/404/400) is final and is never seen here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from extract.config import RetryPolicy
from extract.pacing import Clock


class RetryableFailure(Exception):
    """A response worth another attempt; carries the server's wait hint if it sent one."""

    def __init__(self, reason: str, *, status: int | None, wait_hint_s: float | None) -> None:
        super().__init__(reason)
        self.status = status
        self.wait_hint_s = wait_hint_s


def wait_hint(headers: httpx.Headers, now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait: the larger of `x-ratelimit-reset`, `Retry-After`."""
    hints = [
        seconds
        for seconds in (
            _seconds(headers.get("x-ratelimit-reset"), now),
            _seconds(headers.get("retry-after"), now),
        )
        if seconds is not None
    ]
    return max(hints) if hints else None


def _seconds(value: str | None, now: datetime | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _WaitForHintOrBackoff:
    """Honour the server's hint (capped); otherwise exponential backoff with full jitter."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        self._backoff = wait_exponential_jitter(
            multiplier=policy.backoff_base_s, max=policy.backoff_max_s, jitter=policy.backoff_base_s
        )

    def __call__(self, state: RetryCallState) -> float:
        if not self._policy.wait:
            return 0.0
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableFailure) and error.wait_hint_s is not None:
            return min(error.wait_hint_s, self._policy.max_hint_s)
        return float(self._backoff(state))


class _StopAfterTotal(stop_base):
    """Stop when the next wait would end past the total budget, timed by the injected clock."""

    def __init__(self, policy: RetryPolicy, clock: Clock, wait: _WaitForHintOrBackoff) -> None:
        self._budget = policy.max_total_s
        self._clock = clock
        self._started = clock.monotonic()
        self._wait = wait

    def __call__(self, state: RetryCallState) -> bool:
        elapsed = self._clock.monotonic() - self._started
        return elapsed + self._wait(state) > self._budget


def build_retrying(
    policy: RetryPolicy, clock: Clock, before_sleep: Callable[[RetryCallState], None]
) -> AsyncRetrying:
    """A fresh tenacity controller for one logical call (its total-time budget starts now)."""
    wait = _WaitForHintOrBackoff(policy)
    return AsyncRetrying(
        retry=retry_if_exception_type(RetryableFailure),
        wait=wait,
        stop=stop_after_attempt(policy.max_attempts) | _StopAfterTotal(policy, clock, wait),
        sleep=clock.sleep,
        before_sleep=before_sleep,
        reraise=False,
    )
