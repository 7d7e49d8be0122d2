"""Client configuration as small frozen values; read once by the caller and passed in.

Nothing in `extract` reads the environment except the explicit `ClientConfig.from_env()`
convenience, so flows can build the config from their own settings object.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from extract.errors import HOST_VARIABLE, TOKEN_VARIABLE, ExtractError

# The client's defaults, defined here once; `flows.core.settings` takes its defaults and bounds
# from these names.
DEFAULT_HOST = "https://api.ubiops.com/v2.1"
# No cap of our own: the pace follows the server's rate-limit headers and 429s
# (extract.pacing); `rate_per_minute` is the user's explicit cap per endpoint group.
DEFAULT_RATE_PER_MINUTE: int | None = None
# Calls the pacer lets through at once: it paces at `limit - burst` a minute, so any 60 s
# holds at most `limit` calls.
DEFAULT_RATE_BURST = 5
DEFAULT_CONCURRENCY = 4
DEFAULT_CONNECT_TIMEOUT_S = 10.0
# Generous: a 5,000-line log page from a busy server can take a while to produce.
DEFAULT_READ_TIMEOUT_S = 60.0
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_MAX_RETRY_S = 300.0
# Which log endpoint: `legacy` (POST /logs, API.md), `current` (GET /logs, API-NOTES.md) or
# `auto` (the POST while the server has it, else the GET).
LogApi = Literal["auto", "legacy", "current"]
LOG_APIS: tuple[LogApi, ...] = ("auto", "legacy", "current")
DEFAULT_LOG_API: LogApi = "auto"
# API.md's maximum; the current service takes 5,000 on either endpoint and the client asks
# for that, falling back to 500 where a server refuses it (400) or clamps it.
DOCUMENTED_LOG_LIMIT_MAX = 500
# A log page of one would only ever hold the repeated cursor log.
LOG_LIMIT_FLOOR = 2
LOG_LIMIT_CEILING = 5000
DEFAULT_REQUESTS_PAGE_SIZE = 50
DEFAULT_AUDIT_PAGE_SIZE = 100


class RetryPolicy(BaseModel):
    """When to give up: attempts and total seconds; `wait=False` turns every wait off (tests)."""

    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1)
    max_total_s: float = Field(default=DEFAULT_MAX_RETRY_S, gt=0)
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    # A server's reset hint is honoured up to this many seconds, so a bogus header
    # cannot park the run for an hour.
    max_hint_s: float = Field(default=120.0, ge=0)
    wait: bool = True


class ClientConfig(BaseModel):
    """Everything the client needs: host, token (secret), pace cap, concurrency, timeouts."""

    model_config = ConfigDict(frozen=True)

    host: str = DEFAULT_HOST
    token: SecretStr
    rate_per_minute: float | None = Field(default=DEFAULT_RATE_PER_MINUTE, gt=0)
    rate_burst: int = Field(default=DEFAULT_RATE_BURST, ge=1)
    max_concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1)
    connect_timeout_s: float = Field(default=DEFAULT_CONNECT_TIMEOUT_S, gt=0)
    read_timeout_s: float = Field(default=DEFAULT_READ_TIMEOUT_S, gt=0)
    retry: RetryPolicy = RetryPolicy()
    log_page_size: int = Field(default=LOG_LIMIT_CEILING, ge=LOG_LIMIT_FLOOR, le=LOG_LIMIT_CEILING)
    log_api: LogApi = DEFAULT_LOG_API
    requests_page_size: int = Field(default=DEFAULT_REQUESTS_PAGE_SIZE, ge=1, le=1000)
    audit_page_size: int = Field(default=DEFAULT_AUDIT_PAGE_SIZE, ge=1, le=1000)
    max_pages: int = Field(default=1_000_000, ge=1)

    @field_validator("host")
    @classmethod
    def _strip_host(cls, host: str) -> str:
        host = host.strip().rstrip("/")
        if not host.startswith(("http://", "https://")):
            raise ValueError(f"host must start with http:// or https://, got {host!r}")
        return host

    @property
    def authorization(self) -> str:
        """The Authorization header value; the token may come with or without `Token `."""
        raw = self.token.get_secret_value().strip()
        if raw.startswith(("Token ", "Bearer ")):
            return raw
        return f"Token {raw}"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> ClientConfig:
        """Build from UBIOPS_API_TOKEN and UBIOPS_API_HOST (the only env read in extract)."""
        env = os.environ if environ is None else environ
        token = env.get(TOKEN_VARIABLE, "")
        if not token.strip():
            raise ExtractError(f"{TOKEN_VARIABLE} is not set; set it to your UbiOps API token")
        values: dict[str, object] = {"token": SecretStr(token)}
        if env.get(HOST_VARIABLE):
            values["host"] = env[HOST_VARIABLE]
        values.update(overrides)
        return cls.model_validate(values)
