"""Keep the service's keep-alive connections spread evenly over its workers.

The workers share one listening socket (BentoML 1.4 has no per-worker `SO_REUSEPORT`, issue #5426), and
an event loop accepts every pending connection at once when it wakes: a burst of connections, e.g. a
pipeline opening its pool of 32, often lands entirely on one worker. Keep-alive then keeps it there,
and that worker, whose event loop and scoring share one core, serves everything while the other idles.

Each worker counts its live keep-alive connections (a client address that sent a request within
`idle_s` of its previous one: a connection used once, like a health probe, is not counted) and
publishes the count in its slot of a small file shared by the workers of one server
(`ConnectionTable`, an mmap under /dev/shm, named by the server's pid; files of servers that have
ended are removed when a worker opens its table). A worker holding more than its share of all live
connections (total / workers + slack) answers the current request with `Connection: close`. HTTP/1.1
clients open a new connection for their next request, and the kernel hands it to a worker that is
waiting in its event loop, which is rarely the overloaded one. A connection closed this way stays in
its worker's count until `idle_s` passes, so that a burst of closes never takes a worker below its
share before the others have counted the reconnected clients. A worker that published nothing within
`idle_s` counts as 0.

Outside a multi-worker server (one worker, or no worker index) nothing is ever closed.
"""

from __future__ import annotations

import mmap
import os
import struct
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from serving.connection_recycling import closing_connection

Scope = dict[str, Any]
_SLOT = struct.Struct("<qd")  # live connections, time.monotonic() when published
TABLE_PREFIX = "desil-connections-"  # + the server's pid


def shared_directory() -> Path:
    """/dev/shm where it exists (memory, never written to disk), else the temp directory."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


def remove_ended_tables(directory: Path) -> list[Path]:
    """Delete the tables in `directory` whose server process no longer exists; returns them."""
    removed = []
    for path in directory.glob(f"{TABLE_PREFIX}*"):
        pid = path.name.removeprefix(TABLE_PREFIX)
        if pid.isdigit() and not _process_exists(int(pid)):
            try:
                path.unlink()
                removed.append(path)
            except OSError:  # another worker removed it first, or not ours to remove
                pass
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


class ConnectionTable:
    """Live-connection counts of one server's workers: slot i (0-based) of a shared file holds worker
    i + 1's count and the `time.monotonic()` (system-wide on Linux) at which it was published."""

    def __init__(self, path: Path, workers: int, worker_index: int) -> None:
        if workers < 1 or not 1 <= worker_index <= workers:
            raise ValueError(f"worker_index must be in 1..{workers}, got {worker_index}")
        self.path = path
        self.workers = workers
        self.index = worker_index - 1
        size = _SLOT.size * workers
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < size:
                os.ftruncate(fd, size)  # zero-filled: count 0 published at time 0
            self._map = mmap.mmap(fd, size)
        finally:
            os.close(fd)

    @classmethod
    def for_server(cls, workers: int, worker_index: int, directory: Path | None = None) -> ConnectionTable:
        """The table of the server this worker belongs to: the workers of one `bentoml serve` share their
        parent process (the arbiter), whose pid names the file. Tables of servers that ended go."""
        directory = directory or shared_directory()
        remove_ended_tables(directory)
        return cls(directory / f"{TABLE_PREFIX}{os.getppid()}", workers, worker_index)

    def publish(self, count: int, now: float) -> None:
        _SLOT.pack_into(self._map, self.index * _SLOT.size, count, now)

    def others(self, now: float, idle_s: float) -> int:
        """Live connections of the other workers; a slot not published within `idle_s` counts 0."""
        total = 0
        for i in range(self.workers):
            if i != self.index:
                count, published = _SLOT.unpack_from(self._map, i * _SLOT.size)
                if now - published <= idle_s:
                    total += count
        return total


class ConnectionBalanceMiddleware:
    """ASGI middleware: `Connection: close` on a response of a worker that holds more than its share of
    the server's live keep-alive connections (see the module docstring).

    `workers`: the server's worker count (1 switches balancing off). `worker_index`: returns this
    worker's 1-based index, or None outside a BentoML worker (balancing off); called at the first
    request, when BentoML has set it. `table`: a prepared table (tests), else the server's own.
    `clock`: seconds, monotonic (tests pass their own)."""

    def __init__(self, app: Any, workers: int, slack: int, idle_s: float,
                 worker_index: Callable[[], int | None] = lambda: None, table: ConnectionTable | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if workers < 1 or slack < 0 or idle_s <= 0:
            raise ValueError(f"need workers >= 1, slack >= 0, idle_s > 0; got {workers}, {slack}, {idle_s}")
        self.app = app
        self.workers = workers
        self.slack = slack
        self.idle_s = idle_s
        self._worker_index = worker_index
        self._table = table
        self._enabled: bool | None = None if table is None else workers > 1
        self._clock = clock
        self._seen: OrderedDict[tuple[Any, ...], float] = OrderedDict()  # client -> last request, oldest first
        self._live: OrderedDict[tuple[Any, ...], float] = OrderedDict()  # the clients seen again within idle_s
        self._closing: OrderedDict[tuple[Any, ...], float] = OrderedDict()  # closed here, still counted

    def _start(self) -> bool:
        """Open this worker's table at the first request; False when balancing does not apply."""
        index = self._worker_index() if self.workers > 1 else None
        if index is not None:
            self._table = ConnectionTable.for_server(self.workers, int(index))
        return self._table is not None

    def _expire(self, now: float) -> None:
        for held in (self._seen, self._live, self._closing):
            while held and now - next(iter(held.values())) > self.idle_s:
                held.popitem(last=False)

    def should_close(self, client: tuple[Any, ...]) -> bool:
        """Counts a request from `client` (host, port); True when its connection should be closed (only
        ever on a connection's second or later request)."""
        if self._enabled is None:
            self._enabled = self._start()
        if not self._enabled or self._table is None:
            return False
        now = self._clock()
        self._expire(now)
        again = self._seen.pop(client, None) is not None
        self._seen[client] = now
        if not again:  # a connection's first request (or first after a pause): not counted yet
            return False
        self._live.pop(client, None)
        self._live[client] = now
        mine = len(self._live)
        total = mine + len(self._closing) + self._table.others(now, self.idle_s)
        close = mine > total / self.workers + self.slack
        if close:
            del self._live[client]
            self._closing[client] = now
        self._table.publish(len(self._live) + len(self._closing), now)
        return close

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        client = scope.get("client") if scope["type"] == "http" else None
        if not client or not self.should_close(tuple(client)):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, closing_connection(send))
