"""The one paging loop, and the page it yields.

A list body is a plain JSON list or a paginated envelope (`list_body`). A paginator is a
frozen value that answers two questions without doing I/O: which request
comes next (`request()`, None when done) and, given the body that request returned, which
records are new and what the next state is (`advance(body)`). The loop below is the only
place that sends; it refuses to send the same request twice and caps the number of pages.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, Self, TypeVar

from extract.client import ApiRequest, Decoder, UbiOpsClient
from extract.errors import ApiError, BadRequest, NotFound, PagingStalled, UnexpectedResponse
from extract.record_columns import RecordColumns
from extract.timeutil import parse_api_datetime

Record = dict[str, Any]
CursorT_co = TypeVar("CursorT_co", covariant=True)


class Paginator(Protocol[CursorT_co]):
    """A pure paging state machine; see the module docstring."""

    @property
    def cursor(self) -> CursorT_co: ...

    def request(self) -> ApiRequest | None: ...

    def advance(self, body: Sequence[Record]) -> tuple[Self, Sequence[Record]]: ...

    def recover(self, error: ApiError) -> Self | None:
        """The state to go on with after a 400 or 404 for `request()`, or None to raise it."""
        ...


@dataclass(frozen=True)
class Page(Generic[CursorT_co]):
    """New records of one stream, and the cursor to commit once they are durable.

    `window` is the half-open time interval the page belongs to (None for audit events);
    `window_done` says the window holds nothing more, so the caller can record it complete.
    """

    stream: str
    project: str
    records: Sequence[Record]
    cursor: CursorT_co
    window: tuple[datetime, datetime] | None
    window_done: bool


P = TypeVar("P", bound=Paginator[Any])


async def iter_pages(
    client: UbiOpsClient, paginator: P, *, max_pages: int, decode: Decoder = json.loads
) -> AsyncIterator[tuple[P, Sequence[Record]]]:
    """Send each request the paginator asks for; yield its next state and the new records.

    `decode` turns each response body into a list body (`list_body`); the default is `json`.
    """
    sent: set[str] = set()
    request = paginator.request()
    while request is not None:
        fingerprint = request.fingerprint()
        if fingerprint in sent:
            raise PagingStalled(f"paginator repeated a request to {request.path}; stopping")
        if len(sent) >= max_pages:
            raise PagingStalled(f"more than {max_pages} pages from {request.path}; stopping")
        sent.add(fingerprint)
        try:
            body = await client.send(request, decode)
        except (NotFound, BadRequest) as error:
            recovered = paginator.recover(error)
            if recovered is None:
                raise
            paginator, request = recovered, recovered.request()
            continue
        records_in_body, _ = list_body(body, request.path)
        paginator, records = paginator.advance(records_in_body)
        yield paginator, records
        request = paginator.request()


def list_body(body: Any, path: str) -> tuple[Sequence[Record], str | None]:
    """The records of a list endpoint's body and the URL of its next page, if any.

    A body is either the plain JSON list API.md documents (or such a list already decoded
    into columns: a `Sequence` that is not text) or the paginated envelope later servers send
    (`{count, next, previous, results: [...]}`); anything else is refused.
    """
    if isinstance(body, Sequence) and not isinstance(body, str | bytes):
        return body, None
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        link = body.get("next")
        return body["results"], link if isinstance(link, str) and link else None
    raise UnexpectedResponse(
        f"{path} returned a JSON {type(body).__name__}, neither a list nor a paginated envelope"
    )


# -- reading records that may be broken ----------------------------------------------------
# A record without a usable id or date is still delivered (the caller keeps it as a reject),
# but it never drives a cursor, and its fingerprint keeps it from being delivered twice.


def record_id(record: Record) -> str | None:
    """The record's id if it has a usable one (an item that is not an object has none)."""
    value = record.get("id") if isinstance(record, dict) else None
    return value if isinstance(value, str) and value else None


def record_date(record: Record, field: str) -> datetime | None:
    """The record's datetime `field` if present and parseable."""
    value = record.get(field) if isinstance(record, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return parse_api_datetime(value)
    except ValueError:
        return None


def keys_of(body: Sequence[Record], date_field: str) -> list[tuple[str | None, datetime | None]]:
    """Each record's `record_id` and `record_date(record, date_field)`; a page decoded into
    structs (`RecordColumns`) answers from its structs, which hold its date field."""
    if isinstance(body, RecordColumns):
        return body.ids_and_dates()
    return [(record_id(record), record_date(record, date_field)) for record in body]


def pick(body: Sequence[Record], indexes: list[int]) -> Sequence[Record]:
    """The records of `body` at `indexes`, as the same kind of page."""
    if isinstance(body, RecordColumns):
        return body.rows(indexes)
    return [body[i] for i in indexes]


def fingerprint(record: Record) -> str:
    """A short stable digest of a whole record, to recognise a broken one seen before."""
    text = json.dumps(record, sort_keys=True, default=str).encode()
    return hashlib.blake2b(text, digest_size=12).hexdigest()
