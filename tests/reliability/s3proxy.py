"""A loopback HTTP proxy in front of the test S3 server that sees every storage request of a
child `ubiops-etl` process and can act on it: SIGKILL the child before a request is
forwarded (a kill at an exact commit step), answer 500/503 instead of forwarding, drop the
connection before forwarding, or forward and then drop the answer (the request landed, the
client never learns it did), or hold a request until the test releases it.

The child's AWS_ENDPOINT_URL points here; the test reads the lake directly from the server.
Rules are checked in order for every request; the first rule whose `matches` says yes and
whose countdown reaches zero acts. Everything seen is logged (method, key, what was done).
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from lakeroot import PREFIX, LakeRoot

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}
ERROR_CODES = {403: "AccessDenied", 500: "InternalError", 503: "SlowDown"}

Match = Callable[[str, str], bool]
"""(method, key under the lake root) -> whether a rule applies."""


@dataclass
class Seen:
    """One request the proxy saw: method, key under the lake root, what it did."""

    method: str
    key: str
    action: str
    at: float = field(default_factory=time.monotonic)


@dataclass
class Rule:
    """Act (`kill`, `403`, `500`, `503`, `drop`, `drop-after`, `hold`) on the `nth` request that
    `matches` (then, if `every` > 0, on each `every`-th after it; or with probability `p`
    on each match when `p` > 0). `fired` counts the times it acted."""

    name: str
    matches: Match
    action: str
    nth: int = 1
    every: int = 0
    p: float = 0.0
    limit: int = 1_000_000
    seen: int = 0
    fired: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def hit(self, method: str, key: str) -> bool:
        if self.fired >= self.limit or not self.matches(method, key):
            return False
        self.seen += 1
        if self.p > 0:
            go = self.rng.random() < self.p
        elif self.seen == self.nth:
            go = True
        else:
            go = (
                self.every > 0 and self.seen > self.nth and (self.seen - self.nth) % self.every == 0
            )
        if go:
            self.fired += 1
        return go


def delta_commit(table: str = "", min_version: int = 0) -> Match:
    """A PUT of a Delta commit file (`<table>/_delta_log/<version>.json`); version 0 only
    creates a table, so `min_version=1` means commits of batches."""

    def match(method: str, key: str) -> bool:
        if method != "PUT" or "/_delta_log/" not in key or not key.startswith(table):
            return False
        stem = key.rsplit("/", 1)[-1]
        version = stem.removesuffix(".json")
        return stem.endswith(".json") and version.isdigit() and int(version) >= min_version

    return match


def cursor_put(method: str, key: str) -> bool:
    """A PUT of a stream's cursor document."""
    return method == "PUT" and key.startswith("_state/streams/")


def data_delete(method: str, key: str) -> bool:
    """A delete of a table's data file (what the end-of-stream sweep does): a DELETE, or a
    bulk delete (POST ?delete, key "?delete <xml body>") naming a data file."""
    if method == "POST" and key.startswith("?delete "):
        return ".parquet</Key>" in key and "_delta_log" not in key
    return method == "DELETE" and key.endswith(".parquet") and "/_delta_log/" not in key


def data_put(method: str, key: str) -> bool:
    """An upload of a data file (or a part of one)."""
    return method in ("PUT", "POST") and ".parquet" in key and not key.startswith("?delete")


def any_request(method: str, key: str) -> bool:
    return True


class S3Proxy:
    """The proxy for one child process (or several: `victims`)."""

    def __init__(self, upstream: str, bucket: str, prefix: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.rules: list[Rule] = []
        self.log: list[Seen] = []
        self.victims: list[int] = []
        self.kill_reason = ""
        self.released = threading.Event()
        self.statuses: Counter[int] = Counter()
        """Statuses the server answered forwarded requests with."""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def key_of(self, path: str) -> str:
        """The key under the lake root of a path-style request path ("" if elsewhere)."""
        raw = unquote(urlsplit(path).path).lstrip("/")
        bucket, _, key = raw.partition("/")
        if bucket != self.bucket:
            return ""
        return key.removeprefix(self.prefix + "/") if self.prefix else key

    def decide(self, method: str, key: str) -> str:
        with self._lock:
            for rule in self.rules:
                if rule.hit(method, key):
                    action = rule.action
                    if action == "kill":
                        self._kill(rule.name)
                    self.log.append(Seen(method, key, f"{action}: {rule.name}"))
                    return action
            self.log.append(Seen(method, key, "forward"))
            return "forward"

    def _kill(self, reason: str) -> None:
        self.kill_reason = reason
        for pid in self.victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue

    def actions(self) -> Counter[str]:
        """How many requests got each action."""
        with self._lock:
            return Counter(seen.action for seen in self.log)

    def seen(self, match: Match) -> list[Seen]:
        with self._lock:
            return [s for s in self.log if match(s.method, s.key)]

    def start(self) -> None:
        proxy = self

        class Handler(_Forwarder):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Forwarder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: S3Proxy
    _upstream: http.client.HTTPConnection | None = None

    def log_message(self, format: str, *args: object) -> None:
        return  # quiet

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _drop(self) -> None:
        self.close_connection = True
        with suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _error(self, status: int) -> None:
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{ERROR_CODES[status]}</Code>"
            f"<Message>injected by the test proxy</Message></Error>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body or self.command in ("PUT", "POST"):
            headers["Content-Length"] = str(len(body))
        headers.pop("Expect", None)
        for attempt in range(2):  # a kept-alive upstream connection may have been closed
            if self._upstream is None:
                self._upstream = http.client.HTTPConnection(
                    self.owner.upstream_host, self.owner.upstream_port, timeout=60
                )
                self._upstream.connect()
                assert self._upstream.sock is not None
                self._upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self._upstream.request(self.command, self.path, body=body, headers=headers)
                response = self._upstream.getresponse()
                data = response.read()
                return response.status, response.getheaders(), data
            except (http.client.HTTPException, OSError):
                self._upstream.close()
                self._upstream = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def _handle(self) -> None:
        body = self._body()
        key = self.owner.key_of(self.path)
        if not key and "delete" in urlsplit(self.path).query:
            # A bulk delete (obstore deletes this way): the keys are in the XML body.
            key = "?delete " + body.decode("utf-8", "replace")
        action = self.owner.decide(self.command, key)
        if action in ("kill", "drop"):
            self._drop()
            return
        if action in ("403", "500", "503"):
            self._error(int(action))
            return
        if action == "hold":
            self.owner.released.wait(120)
        status, headers, data = self._forward(body)
        with self.owner._lock:
            self.owner.statuses[status] += 1
        if action == "drop-after":
            self._drop()
            return
        self.send_response(status)
        head = self.command == "HEAD"
        for name, value in headers:
            lower = name.lower()
            if lower in HOP_BY_HOP or lower in ("server", "date"):
                continue
            if lower != "content-length" or head:
                self.send_header(name, value)
        if not head:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


@contextmanager
def proxied(upstream: str, bucket: str, prefix: str) -> Iterator[S3Proxy]:
    """A running proxy for the block."""
    proxy = S3Proxy(upstream, bucket, prefix)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


@contextmanager
def proxy_for(root: LakeRoot) -> Iterator[S3Proxy | None]:
    """A proxy in front of the S3 server of `root`; None for a local root."""
    if root.s3 is None:
        yield None
        return
    with proxied(root.s3.endpoint, root.bucket, PREFIX) as proxy:
        yield proxy
