"""Batching of concurrent small requests into one scoring call, inside one service worker.

Scoring a batch costs a fixed ~10 ms of table work whatever its size (validation, features and the
model walk ~100 columns) plus little per family, so under concurrency one call for many requests is far
cheaper than one call each. `MicroBatcher` runs one scoring call at a time in a worker thread (the
event loop keeps reading and answering requests meanwhile) and gives each call everything that is
waiting, up to `max_items`.

Why not BentoML's own adaptive batching (`@bentoml.api(batchable=True)`): its dispatcher sends whatever
waits as soon as the previous call returns. With clients that send their next request when they get an
answer, the clients split into two halves that alternate (one half waits in the queue while the other
is scored), so every call holds about half of them and every request waits for two calls. Here the next
call waits (at most `window_s`) until as many items wait as the previous call held: the clients just
answered send again and join the same call. A lone client (previous call of one item) never waits.

Contract: `await batcher.submit(items)` returns `score(items')` restricted to this request's items, in
order (`score` must return one result per item, in order). A request's items are never split across
calls. An exception in `score` is raised to every request of that call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Pending(Generic[Item, Result]):
    items: Sequence[Item]
    future: asyncio.Future[list[Result]]


class MicroBatcher(Generic[Item, Result]):
    """Collects `submit`ted item lists and scores them together, one `score` call at a time.

    score: items -> results (same length and order), run in a worker thread. max_items: the most items
    one call takes (a single request larger than that is scored alone). window_s: the longest the next
    call waits for the previous call's number of items to gather (seconds).
    """

    def __init__(self, score: Callable[[list[Item]], list[Result]], max_items: int, window_s: float) -> None:
        if max_items < 1 or window_s < 0:
            raise ValueError(f"max_items must be >= 1 and window_s >= 0, got {max_items}, {window_s}")
        self._score = score
        self._max_items = max_items
        self._window_s = window_s
        self._pending: list[_Pending[Item, Result]] = []
        self._wake: asyncio.Event | None = None
        self._runner: asyncio.Task[None] | None = None
        self._last_call_items = 0

    async def submit(self, items: Sequence[Item]) -> list[Result]:
        """Score `items` together with whatever else is waiting; returns their results in order."""
        loop = asyncio.get_running_loop()
        if self._wake is None:
            self._wake = asyncio.Event()
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._run())
        job: _Pending[Item, Result] = _Pending(list(items), loop.create_future())
        self._pending.append(job)
        self._wake.set()
        return await job.future

    def _take(self) -> list[_Pending[Item, Result]]:
        """The waiting requests of the next call: in arrival order while they fit in max_items (at least one)."""
        taken: list[_Pending[Item, Result]] = []
        size = 0
        while self._pending and (not taken or size + len(self._pending[0].items) <= self._max_items):
            job = self._pending.pop(0)
            if job.future.cancelled():  # the client went away
                continue
            taken.append(job)
            size += len(job.items)
        return taken

    def _waiting_items(self) -> int:
        return sum(len(job.items) for job in self._pending if not job.future.done())

    async def _gather(self) -> None:
        """Wait (at most window_s) until as many items wait as the previous call held (capped at
        max_items): the clients that call answered are expected back. A lone client does not wait."""
        want = min(self._last_call_items, self._max_items)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._window_s
        while True:
            assert self._wake is not None
            self._wake.clear()
            if self._waiting_items() >= want:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self._wake.wait(), remaining)
            except TimeoutError:
                return

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._pending:
                continue
            await self._gather()
            jobs = self._take()
            if not jobs:
                continue
            items = [item for job in jobs for item in job.items]
            self._last_call_items = len(items)
            try:
                results = await asyncio.to_thread(self._score, items)
                if len(results) != len(items):
                    raise RuntimeError(f"score returned {len(results)} results for {len(items)} items")
            except Exception as err:  # noqa: BLE001 - handed to every waiting request
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(err)
            else:
                start = 0
                for job in jobs:
                    end = start + len(job.items)
                    if not job.future.done():
                        job.future.set_result(results[start:end])
                    start = end
            if self._pending:
                self._wake.set()
