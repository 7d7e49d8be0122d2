"""The transport `open_client` builds, over real loopback sockets: what a server does on the
wire (refuses, hangs, drops, truncates, speaks garbage, presents a certificate) still ends as
the client's own errors, retried where httpx's own transport had them retried, with the
token never in a message or a log line.

The servers are raw `asyncio` streams in the test's own loop, so each failure is exact. The
one wall-clock wait is the read-timeout test's: a 20 ms timeout of the transport itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import gzip
import json
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from extract import ApiUnavailable, BadRequest, ClientConfig, RetryPolicy, UbiOpsClient, open_client
from extract.client import ApiRequest

TOKEN = "s3cr3t-token-on-the-wire"
Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class NoWaitClock:
    """The pacers' and retries' clock: never waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    """One HTTP/1.1 request: (request line, headers with lower-case names, body)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    return head[0], headers, await reader.readexactly(length) if length else b""


def response(status: int, body: bytes, *headers: str) -> bytes:
    extra = "".join(f"{h}\r\n" for h in headers)
    return (
        f"HTTP/1.1 {status} X\r\ncontent-length: {len(body)}\r\n"
        f"content-type: application/json\r\n{extra}\r\n"
    ).encode() + body


@asynccontextmanager
async def serving(serve: Serve, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """A loopback server calling `serve` once per connection; yields its base URL."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    listening = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://localhost:{port}/v2.1"
    finally:
        listening.close()
        await listening.wait_closed()


@asynccontextmanager
async def client_of(host: str, attempts: int = 3, **values: Any) -> AsyncIterator[UbiOpsClient]:
    config = ClientConfig(
        host=host,
        token=SecretStr(TOKEN),
        retry=RetryPolicy(wait=False, max_attempts=attempts),
        **values,
    )
    async with open_client(config, clock=NoWaitClock()) as client:
        yield client


async def test_a_call_sends_token_query_and_json_and_reads_a_gzip_body():
    """Method, path, query, JSON body and the Token header reach the server; a gzip body is
    decoded and parsed."""
    seen: list[tuple[str, dict[str, str], bytes]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        body = gzip.compress(json.dumps([{"id": "a"}]).encode())
        writer.write(response(200, body, "content-encoding: gzip"))
        await writer.drain()

    async with serving(serve) as host, client_of(host) as client:
        got = await client.send(ApiRequest("POST", "/projects/p/logs", {"b": "x"}, {"limit": 5}))
    assert got == [{"id": "a"}]
    line, headers, body = seen[0]
    assert line == "POST /v2.1/projects/p/logs?b=x HTTP/1.1"
    assert headers["authorization"] == f"Token {TOKEN}"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"limit": 5}


async def test_keep_alive_reuses_one_connection_for_sequential_calls():
    """Calls one after another share one kept-alive connection."""
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            await read_request(reader)
            writer.write(response(200, b"[]"))
            await writer.drain()

    async with serving(serve) as host, client_of(host) as client:
        for _ in range(5):
            assert await client.get("/projects") == []
    assert connections == 1


def _refused_host() -> str:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v2.1"


async def _hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    await reader.read()  # never answers; returns when the client gives up and closes


async def _drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)  # then close without a byte of response


async def _truncate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(response(200, b'[{"id": "a"}, {"id": "b"}]')[:-10])
    await writer.drain()


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(f"HTTP/1.1 2x0 {TOKEN}\r\n\r\n".encode())  # echoes the token, too
    await writer.drain()


@pytest.mark.parametrize(
    ("serve", "reason"),
    [
        (None, "connect"),
        (_hang, "timeout"),
        (_drop, "disconnect"),
        (_truncate, "complete"),
        (_garbage, ""),
    ],
    ids=["refused", "read-timeout", "dropped", "truncated", "malformed-response"],
)
async def test_wire_failures_are_retried_then_api_unavailable_without_the_token(
    serve: Serve | None, reason: str, caplog: pytest.LogCaptureFixture
):
    """Refused and dropped connections, read timeouts, truncated bodies and malformed
    responses are retried until the attempts run out, then end as ApiUnavailable naming the
    host and the call; the token is in no message and no log line."""
    caplog.set_level(logging.DEBUG)

    async def attempt(host: str) -> ApiUnavailable:
        async with client_of(host, attempts=3, read_timeout_s=0.02) as client:
            with pytest.raises(ApiUnavailable) as raised:
                await client.get("/projects")
            assert client.stats.retries == 2
            assert client.stats.groups["general"].transport_errors == 3
            return raised.value

    if serve is None:
        error = await attempt(_refused_host())
    else:
        async with serving(serve) as host:
            error = await attempt(host)
    message = str(error)
    assert error.attempts == 3
    assert "GET /projects" in message
    assert reason in message.lower()
    assert TOKEN not in message
    assert TOKEN not in repr(error)
    # Our own log lines and httpx's; httpcore's DEBUG trace repeats raw server bytes as they
    # came (a status line that echoes the token too), which only its own logger can turn off.
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("httpcore")]
    assert not [line for line in ours if TOKEN in line]


async def test_a_4xx_echoing_the_token_is_final_and_masked():
    """A 400 whose body echoes the token is raised once as BadRequest, the token masked."""
    calls = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal calls
        calls += 1
        await read_request(reader)
        writer.write(response(400, json.dumps({"error": f"bad token {TOKEN}"}).encode()))
        await writer.drain()

    async with serving(serve) as host, client_of(host) as client:
        with pytest.raises(BadRequest) as raised:
            await client.get("/projects/p")
    assert calls == 1
    assert TOKEN not in str(raised.value)
    assert "***" in str(raised.value)


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for `localhost` and the PEM file of its (self-signed) cert."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(response(200, b"[]"))
    await writer.drain()


async def test_tls_certificates_are_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An https host whose certificate no trusted CA signed is refused (retried as a
    connection error, then ApiUnavailable naming the certificate)."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    tls, _ = _self_signed(tmp_path)
    async with serving(_answer, tls) as host, client_of(host, attempts=2) as client:
        with pytest.raises(ApiUnavailable) as raised:
            await client.get("/projects")
    assert "certificate" in str(raised.value).lower()


async def test_ssl_cert_file_adds_a_trusted_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """As with httpx's own transport, SSL_CERT_FILE names a CA bundle to trust."""
    tls, cert_file = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    async with serving(_answer, tls) as host, client_of(host) as client:
        assert await client.get("/projects") == []


async def test_a_proxy_from_the_environment_carries_the_calls(monkeypatch: pytest.MonkeyPatch):
    """As with httpx's own transport, HTTP_PROXY routes the calls through that proxy."""
    seen: list[str] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line, headers, _ = await read_request(reader)
        seen.append(line)
        assert headers["authorization"] == f"Token {TOKEN}"
        writer.write(response(200, b"[]"))
        await writer.drain()

    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    async with serving(proxy) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url.removesuffix("/v2.1"))
        async with client_of("http://ubiops.invalid/v2.1") as client:
            assert await client.get("/projects") == []
    assert seen == ["GET http://ubiops.invalid/v2.1/projects HTTP/1.1"]


async def test_no_response_outlives_its_call_without_the_cyclic_gc():
    """On the real transport too, a page's response (and its body) is freed when the call
    returns, not at the next full collection: with the collector off, none is left."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(response(200, json.dumps([{"id": "a", "log": "x" * 100_000}]).encode()))
            await writer.drain()

    def alive() -> int:
        kinds = (httpx.Response, aiohttp.ClientResponse)
        return sum(isinstance(o, kinds) for o in gc.get_objects())

    async with serving(serve) as host, client_of(host) as client:
        gc.collect()
        gc.disable()
        try:
            before = alive()
            for _ in range(5):
                assert len(await client.get("/projects/p/logs")) == 1
            assert alive() == before
        finally:
            gc.enable()
