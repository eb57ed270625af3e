"""serving.micro_batching.MicroBatcher: concurrent requests share scoring calls, each gets exactly its
own results in order, errors reach every request of the failed call, and a lone client never waits."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from serving.micro_batching import MicroBatcher


class Scorer:
    """Doubles numbers; records the size of every call and that calls never overlap."""

    def __init__(self, delay_s: float = 0.01, fail_on: int | None = None) -> None:
        self.calls: list[int] = []
        self.delay_s = delay_s
        self.fail_on = fail_on
        self._busy = threading.Lock()

    def __call__(self, items: list[int]) -> list[int]:
        if not self._busy.acquire(blocking=False):
            raise AssertionError("two scoring calls ran at the same time")
        try:
            self.calls.append(len(items))
            time.sleep(self.delay_s)
            if self.fail_on is not None and self.fail_on in items:
                raise ValueError(f"cannot score {self.fail_on}")
            return [2 * x for x in items]
        finally:
            self._busy.release()


def test_concurrent_requests_share_calls_and_get_their_own_results():
    scorer = Scorer()

    async def main() -> list[list[int]]:
        batcher = MicroBatcher(scorer, max_items=64, window_s=0.005)
        requests = [[i] if i % 3 else [i, 1000 + i] for i in range(40)]
        return await asyncio.gather(*(batcher.submit(r) for r in requests))

    answers = asyncio.run(main())
    assert answers == [[2 * i] if i % 3 else [2 * i, 2 * (1000 + i)] for i in range(40)]
    assert sum(scorer.calls) == 40 + 14  # every item scored exactly once
    assert len(scorer.calls) < 10  # and together, not one call per request


def test_calls_respect_max_items_and_never_split_a_request():
    scorer = Scorer(delay_s=0.002)

    async def main() -> list[list[int]]:
        batcher = MicroBatcher(scorer, max_items=5, window_s=0.001)
        requests = [[1, 2, 3], [4, 5, 6], [7], [8, 9], list(range(10, 17)), [17]]
        return await asyncio.gather(*(batcher.submit(r) for r in requests))

    answers = asyncio.run(main())
    assert answers == [[2, 4, 6], [8, 10, 12], [14], [16, 18], [2 * x for x in range(10, 17)], [34]]
    # a 7-item request is scored alone; no other call goes past 5 items
    assert 7 in scorer.calls and all(c <= 5 for c in scorer.calls if c != 7)


def test_an_error_reaches_every_request_of_that_call_and_the_batcher_goes_on():
    scorer = Scorer(fail_on=13)

    async def main() -> tuple[list[object], list[int]]:
        batcher = MicroBatcher(scorer, max_items=64, window_s=0.005)
        first = await asyncio.gather(*(batcher.submit([i]) for i in (11, 12, 13)), return_exceptions=True)
        after = await batcher.submit([21])
        return first, after

    first, after = asyncio.run(main())
    assert all(isinstance(a, ValueError) and "cannot score 13" in str(a) for a in first)
    assert after == [42]


def test_a_wrong_number_of_results_is_an_error():
    async def main() -> None:
        batcher = MicroBatcher(lambda items: items[:-1], max_items=8, window_s=0.0)
        await batcher.submit([1, 2])

    with pytest.raises(RuntimeError, match="1 results for 2 items"):
        asyncio.run(main())


def test_a_lone_client_does_not_wait_for_the_window():
    scorer = Scorer(delay_s=0.0)

    async def main() -> float:
        batcher = MicroBatcher(scorer, max_items=64, window_s=2.0)
        started = time.perf_counter()
        for i in range(5):  # one request after the other, as a single client sends them
            assert await batcher.submit([i]) == [2 * i]
        return time.perf_counter() - started

    assert asyncio.run(main()) < 1.0  # a 2 s window on each of the 4 later calls would take 8 s
    assert scorer.calls == [1, 1, 1, 1, 1]


def test_a_cancelled_request_is_dropped_without_affecting_the_others():
    scorer = Scorer(delay_s=0.05)

    async def main() -> list[int]:
        batcher = MicroBatcher(scorer, max_items=64, window_s=0.0)
        busy = asyncio.ensure_future(batcher.submit([1]))  # occupies the scorer
        await asyncio.sleep(0.01)
        gone = asyncio.ensure_future(batcher.submit([2]))
        kept = asyncio.ensure_future(batcher.submit([3]))
        await asyncio.sleep(0)
        gone.cancel()
        await busy
        return await kept

    assert asyncio.run(main()) == [6]
    assert sum(scorer.calls) == 2  # the cancelled item was never scored


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="max_items"):
        MicroBatcher(lambda items: items, max_items=0, window_s=0.0)
