"""interleave: several windows paged at once, each in order, bounded, errors surface."""

from collections.abc import AsyncIterator

import pytest

from extract import interleave


def numbers(tag: str, count: int, fail_at: int | None = None):
    async def source() -> AsyncIterator[tuple[str, int]]:
        for i in range(count):
            if i == fail_at:
                raise RuntimeError(f"{tag} broke")
            yield tag, i

    return source


@pytest.mark.parametrize("concurrency", [1, 2, 5])
async def test_every_item_once_and_in_order_within_a_source(concurrency):
    """All items of all sources arrive once, each source's items in their own order."""
    sources = [numbers(t, n) for t, n in (("a", 7), ("b", 0), ("c", 3), ("d", 12))]
    got = [item async for item in interleave(sources, concurrency)]
    assert sorted(got) == sorted(
        (t, i) for t, n in (("a", 7), ("c", 3), ("d", 12)) for i in range(n)
    )
    for tag in "acd":
        assert [i for t, i in got if t == tag] == sorted(i for t, i in got if t == tag)


async def test_the_first_error_is_raised_and_the_rest_cancelled():
    """A failing source ends the whole stream with its error instead of hanging or hiding it."""
    sources = [numbers("a", 1000), numbers("b", 10, fail_at=4)]
    with pytest.raises(RuntimeError, match="b broke"):
        async for _ in interleave(sources, 2):
            pass
