"""Parsing and validating client input; every failure is an ApiError with a 4xx status."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from simulator.errors import ApiError
from simulator.timefmt import parse_iso_ns

TRUE_WORDS = {"true": True, "1": True, "false": False, "0": False}


def shown(value: object, width: int = 40) -> str:
    """A client value quoted in an error message, cut short: errors echo, they do not mirror."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def query_int(
    params: Mapping[str, str], name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"`{name}` must be an integer, got {shown(raw)}") from None
    return check_range(name, value, minimum, maximum)


def check_range(name: str, value: int, minimum: int, maximum: int | None) -> int:
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ApiError(400, f"`{name}` must be {bound}, got {shown(value)}")
    return value


def query_bool(params: Mapping[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() not in TRUE_WORDS:
        raise ApiError(400, f"`{name}` must be true or false, got {shown(raw)}")
    return TRUE_WORDS[raw.lower()]


def query_choice(
    params: Mapping[str, str], name: str, choices: tuple[str, ...], default: str | None = None
) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise ApiError(400, f"`{name}` must be one of {', '.join(choices)}; got {shown(raw)}")
    return raw


def parse_date(name: str, raw: object) -> int:
    """An ISO 8601 datetime (Z, offset or naive UTC) to epoch ns, or a 400."""
    if not isinstance(raw, str):
        raise ApiError(400, f"`{name}` must be an ISO 8601 datetime string")
    try:
        return parse_iso_ns(raw)
    except ValueError:
        raise ApiError(400, f"`{name}` is not a valid ISO 8601 datetime: {shown(raw)}") from None


def query_date(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    return None if raw is None or raw == "" else parse_date(name, raw)


async def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object (an empty body is `{}` when not required)."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise ApiError(400, "A JSON request body is required")
        return {}
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return body


def _reject_constant(name: str) -> object:
    # NaN and Infinity are not JSON, although Python's parser accepts them.
    raise ValueError(f"{name} is not valid JSON")


def body_str(body: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, f"`{name}` is required")
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"`{name}` must be a string")
    return value


def body_bool(body: Mapping[str, Any], name: str, *, required: bool) -> bool | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, f"`{name}` is required")
        return None
    if not isinstance(value, bool):
        raise ApiError(400, f"`{name}` must be a boolean")
    return value


def body_int(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"`{name}` must be an integer")
    return value
