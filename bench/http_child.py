"""One HTTP variant replaying recorded log-page calls in a fresh process, measuring itself.

    python -m bench.http_child '{"variant": "httpx", "host": ..., "token": ...,
                                 "requests": "/tmp/x.json", "calls": 2000, "concurrency": 8}'

`requests` is a JSON list of `[method, path, params, body]` recorded by `bench.http_bench`
from a real paging run; it is cycled until `calls` calls have been made, `concurrency` at a
time. Variants:

- `httpx`: the product's `UbiOpsClient` (pacing, tenacity, the error boundary, `json.loads`)
  over httpx's own transport (httpcore + h11 + anyio), built as `open_client` builds it;
- `httpx-aiohttp`: the same client over `httpx_aiohttp.AiohttpTransport` (aiohttp's
  connector and parser under httpx's request and response models);
- `httpx-aiohttp-1m`: the same with aiohttp reading up to 1 MiB at a time (`read_bufsize`;
  its default, 64 KiB, pauses the socket often on a 1.4 MB page of 5,000 logs);
- `aiohttp`: the floor, no product code: an `aiohttp.ClientSession` posting the same bodies
  and `json.loads`-ing the bytes, no pacing, no retry.

Prints one JSON line: CPU seconds (user + system, all threads) and wall seconds of the calls
alone (imports and the request file excluded), calls, records and body bytes received.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from pydantic import SecretStr

from extract import ClientConfig, RetryPolicy, open_client
from extract.client import ApiRequest

Call = Callable[[list[Any]], Awaitable[tuple[int, int]]]


def cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def drive(call: Call, requests: list[list[Any]], calls: int, concurrency: int) -> list[int]:
    """Make `calls` calls, `concurrency` at a time; return [records, bytes]."""
    todo: Iterator[list[Any]] = itertools.islice(itertools.cycle(requests), calls)
    totals = [0, 0]

    async def worker() -> None:
        for request in todo:  # one shared iterator: each request is taken once
            records, size = await call(request)
            totals[0] += records
            totals[1] += size

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return totals


def _count(body: Any) -> int:
    return len(body) if isinstance(body, list) else len(body.get("logs", body))


async def product(params: dict[str, Any], transport: httpx.AsyncBaseTransport) -> list[int]:
    config = ClientConfig(
        host=params["host"],
        token=SecretStr(params["token"]),
        max_concurrency=params["concurrency"],
        rate_per_minute=1e9,
        retry=RetryPolicy(wait=False, max_attempts=3),
    )
    async with open_client(config, transport=transport) as client:

        async def call(request: list[Any]) -> tuple[int, int]:
            method, path, query, body = request
            decoded = await client.send(ApiRequest(method, path, query, body))
            return _count(decoded), 0

        totals = await drive(call, params["requests_list"], params["calls"], config.max_concurrency)
        if client.stats.retries:
            raise RuntimeError(f"{client.stats.retries} retries: the figures would not compare")
        return totals


async def floor(params: dict[str, Any]) -> list[int]:
    headers = {"Authorization": f"Token {params['token']}", "Accept": "application/json"}
    connector = aiohttp.TCPConnector(limit=params["concurrency"])
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def call(request: list[Any]) -> tuple[int, int]:
            method, path, query, body = request
            url = params["host"] + path
            async with session.request(method, url, params=query or None, json=body) as response:
                content = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{response.status} from {url}")
            return _count(json.loads(content)), len(content)

        return await drive(call, params["requests_list"], params["calls"], params["concurrency"])


def transport_of(variant: str, concurrency: int) -> httpx.AsyncBaseTransport:
    """The transport `open_client` would build by itself, or the aiohttp one, same pool."""
    pool = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    if variant == "httpx":
        return httpx.AsyncHTTPTransport(limits=pool)
    if variant == "httpx-aiohttp":
        return AiohttpTransport(limits=pool)
    if variant == "httpx-aiohttp-1m":
        ssl_context = httpx.create_ssl_context()

        def session() -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(limit=concurrency, ssl=ssl_context)
            return aiohttp.ClientSession(connector=connector, read_bufsize=2**20)

        return AiohttpTransport(client=session)
    raise ValueError(f"unknown variant {variant!r}")


def main() -> None:
    params: dict[str, Any] = json.loads(sys.argv[1])
    with open(params["requests"]) as source:
        params["requests_list"] = json.load(source)
    variant = params["variant"]
    cpu0, wall0 = cpu_now(), time.perf_counter()
    if variant == "aiohttp":
        records, size = asyncio.run(floor(params))
    else:
        records, size = asyncio.run(product(params, transport_of(variant, params["concurrency"])))
    wall, cpu = time.perf_counter() - wall0, cpu_now() - cpu0
    out = {"variant": variant, "cpu_s": cpu, "wall_s": wall, "calls": params["calls"]}
    print(json.dumps({**out, "records": records, "bytes": size}), flush=True)


if __name__ == "__main__":
    main()
