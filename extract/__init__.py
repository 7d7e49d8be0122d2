"""The only code that speaks HTTP: client, retries, rate limit, paginators and streams.

Entry points for flows::

    config = ClientConfig(host=..., token=SecretStr(...), max_concurrency=4)
    async with open_client(config) as client:      # keep-alive httpx client, process-wide pacing
        listing = await list_projects(client)      # .valid names; .invalid (name, reason) pairs
        async for page in iter_logs(client, p, since, until, resume, concurrency=4):
            ...                                    # resume: LogCursor or several, one per window
        async for page in iter_requests(client, p, "deployment", since, until, resume=cursor):
            ...
        async for page in iter_audit_events(client, p, known=audit_cursor):
            ...
        tables = await fetch_snapshot(client, p)   # {table: [raw rows]}, secrets nulled
    client.stats                                   # calls, retries, 429s per endpoint group

`UbiOpsClient(http, config, clock=..., pacing=...)` is the injectable form for tests.
Logs come from `POST /logs` (legacy) or `GET /logs` (current, content ids) as
`config.log_api` says (`auto`: the POST while the server has it); `client.traits` records
which one the run used. A `Page` holds new raw records, the cursor to commit once they are
durable, the window they belong to and whether that window is complete. Cursors are frozen
dataclasses with `to_json()` / `from_json()`. Windows are half-open `[start, end)`. Errors:
`extract.errors`.

Pacing follows the server's `x-ratelimit-*` headers and 429s, one budget per endpoint group
shared by every client of the process (`extract.pacing`); `rate_per_minute` is an explicit
cap. Several worker processes draw from one budget held in one place through
`SharedPacing` (`extract.budget`), given to `open_client(config, pacing=...)`.
"""

import lazy_loader

# Names load their module on first use (SPEC 1 lazy loading; the names and their modules are
# in __init__.pyi, which type checkers read): the command line's start must not pay for
# modules its command does not use.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
