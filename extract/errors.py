"""The one exception tree of `extract`, grouped by what the caller must do.

Everything below `ExtractError` is raised by this package only; httpx errors and statuses are
translated at exactly one boundary (`UbiOpsClient`, with `error_for_status` here): no httpx
(or aiohttp, its transport) exception leaves `extract`. Messages name the host and what to
fix, never the token.

- fatal for the run: `AuthError` (401), `PermissionDenied` (403), `ApiUnavailable`
  (retries exhausted), `RequestFailed` (httpx failed in a way no retry fixes),
  `PagingStalled` (a server that repeats itself), `UnexpectedResponse` (a body of the
  wrong shape);
- skip the project and go on: `NotFound` (404), `BadRequest` (400), `InvalidProjectName`.
"""

from __future__ import annotations

import json

TOKEN_VARIABLE = "UBIOPS_API_TOKEN"  # noqa: S105 (a variable name, not a secret)
HOST_VARIABLE = "UBIOPS_API_HOST"


class ExtractError(Exception):
    """Base of every error raised by `extract`."""


class ApiError(ExtractError):
    """The API answered with a status that retrying cannot fix."""

    def __init__(self, message: str, *, status: int, url: str) -> None:
        super().__init__(message)
        self.status = status
        self.url = url


class AuthError(ApiError):
    """401: the token was rejected; the run cannot go on."""


class PermissionDenied(ApiError):
    """403: the token is valid but may not read this resource."""


class NotFound(ApiError):
    """404: the project (or object) does not exist or is not visible to the token."""


class BadRequest(ApiError):
    """400: the API refused the parameters (a bug here, or an API change)."""


class ApiUnavailable(ExtractError):
    """Retries were exhausted on 429s, 5xx, timeouts, dropped connections or broken bodies."""

    def __init__(self, message: str, *, attempts: int, last_status: int | None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_status = last_status


class RequestFailed(ExtractError):
    """httpx could not make the call, and retrying cannot help (a redirect loop, a bad URL)."""


class InvalidProjectName(ExtractError):
    """A project name that must not become a URL or path segment."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"invalid project name {name!r}: {reason}")
        self.name = name
        self.reason = reason


class PagingStalled(ExtractError):
    """The paging loop would send the same request twice or exceeded its page cap."""


def api_message(body: bytes) -> str:
    """The API's `{"error": "..."}` text (or an excerpt of whatever it sent), on one line."""
    try:
        decoded = json.loads(body)
    except ValueError:
        text = body[:200].decode("utf-8", "replace")
    else:
        is_error = isinstance(decoded, dict) and isinstance(decoded.get("error"), str)
        text = str(decoded["error"]) if is_error else ""
    return " ".join(text.split())[:300]


class UnexpectedResponse(ExtractError):
    """A 2xx body of the wrong shape (an object where a list was documented, say)."""


def error_for_status(status: int, url: str, host: str, detail: str) -> ApiError:
    """Translate a non-retryable 4xx into the error that tells the user what to do."""
    suffix = f" ({detail})" if detail else ""
    if status == 401:
        return AuthError(
            f"401 from {host}: the API token was rejected; set {TOKEN_VARIABLE} "
            f"to a valid token for this host{suffix}",
            status=status,
            url=url,
        )
    if status == 403:
        return PermissionDenied(
            f"403 from {url}: the token may not read this; grant it project-viewer rights{suffix}",
            status=status,
            url=url,
        )
    if status == 404:
        return NotFound(
            f"404 from {url}: not found; check the project name and that the token "
            f"can see it{suffix}",
            status=status,
            url=url,
        )
    return BadRequest(
        f"{status} from {url}: the API refused the request{suffix}", status=status, url=url
    )
