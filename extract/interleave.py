"""Page several windows at once: one stream of their pages, in order within each window.

Used for the 24 h log windows of a range and for the sub-windows of a requests range. Workers
take sources in the order given; a bounded queue holds them back when the consumer is slow, so
memory follows the concurrency, not the range; the first error cancels the rest and is raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
Source = Callable[[], AsyncIterator[T]]

_DONE = object()


async def interleave(sources: Sequence[Source[T]], concurrency: int) -> AsyncGenerator[T, None]:
    """Items of every source, up to `concurrency` sources at a time (sequential when 1)."""
    if concurrency <= 1 or len(sources) <= 1:
        for source in sources:
            async for item in source():
                yield item
        return
    todo = list(reversed(sources))
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=2 * concurrency)

    async def work() -> None:
        try:
            while todo:
                async for produced in todo.pop()():
                    await queue.put(produced)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # handed to the consumer, which re-raises it
            await queue.put(error)
            return
        await queue.put(_DONE)

    workers = [asyncio.create_task(work()) for _ in range(min(concurrency, len(sources)))]
    try:
        running = len(workers)
        while running:
            got = await queue.get()
            if got is _DONE:
                running -= 1
            elif isinstance(got, BaseException):
                raise got
            else:
                yield got  # type: ignore[misc]
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
