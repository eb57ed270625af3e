"""serving.connection_balancing: workers share their live-connection counts through a real shared file;
a worker holding more than its share closes connections (Connection: close) until it holds its share,
one at or under its share never does, and counts that were not published recently are ignored."""

from __future__ import annotations

import asyncio

import pytest

from serving.connection_balancing import (
    TABLE_PREFIX,
    ConnectionBalanceMiddleware,
    ConnectionTable,
    remove_ended_tables,
)


async def _app(scope, receive, send):
    """A minimal ASGI app: 200 with its own headers (one of them a keep-alive it asks for)."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"connection", b"keep-alive")]})
    await send({"type": "http.response.body", "body": b"ok"})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _second_request(middleware, port: int) -> bytes:
    """The Connection header of the second request on a new connection (a first one is never counted)."""
    assert _connection_header(middleware, port) == b"keep-alive"
    return _connection_header(middleware, port)


def _connection_header(middleware, port: int) -> bytes:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    asyncio.run(middleware({"type": "http", "client": ("127.0.0.1", port)}, receive, send))
    assert sent[1]["body"] == b"ok"  # the answer itself is untouched
    return dict(sent[0]["headers"])[b"connection"]


@pytest.fixture
def two_workers(tmp_path):
    clock = Clock()
    path = tmp_path / "connections"
    workers = [ConnectionBalanceMiddleware(_app, workers=2, slack=1, idle_s=1.0,
                                           table=ConnectionTable(path, 2, index), clock=clock)
               for index in (1, 2)]
    return workers, clock


def test_an_overloaded_worker_sheds_connections_down_to_its_share(two_workers):
    (first, second), clock = two_workers
    # A burst of 8 connections lands on the first worker: it keeps about half (+ slack), closes the rest.
    closed = [port for port in range(5000, 5008) if _second_request(first, port) == b"close"]
    kept = [port for port in range(5000, 5008) if port not in closed]
    assert len(kept) == 5 and len(closed) == 3
    # The kept connections go on without being closed.
    clock.now += 0.1
    assert all(_connection_header(first, port) == b"keep-alive" for port in kept)
    # The closed clients reconnect (new ports) and land on the second worker, which is within its share.
    clock.now += 0.1
    assert all(_second_request(second, port) == b"keep-alive" for port in range(6000, 6003))
    # Later requests on both sides stay open: 5 and 3 of 8 is within one of an even split.
    clock.now += 0.1
    assert all(_connection_header(first, port) == b"keep-alive" for port in kept)
    assert all(_connection_header(second, port) == b"keep-alive" for port in range(6000, 6003))


def test_counts_are_shared_and_stale_ones_ignored(two_workers, tmp_path):
    (first, second), clock = two_workers
    assert [_second_request(first, port) for port in (1, 2)] == [b"keep-alive"] * 2
    # The second worker reads the first one's 2 and may hold 2 of the 4 without closing any.
    assert [_second_request(second, port) for port in (7000, 7001)] == [b"keep-alive"] * 2
    table = ConnectionTable(tmp_path / "connections", 2, 1)
    assert table.others(clock.now, 1.0) == 2  # what the first worker reads of the second
    # With the second worker's 2 counted, the first may hold 4 (half of 6, + slack 1) before closing one.
    assert [_second_request(first, port) for port in (3, 4, 5)] == [b"keep-alive"] * 2 + [b"close"]
    # Once the second worker has published nothing for longer than idle_s its count no longer counts.
    clock.now += 2.0
    assert table.others(clock.now, 1.0) == 0


def test_idle_and_one_request_connections_do_not_count(two_workers):
    (first, _), clock = two_workers
    assert [_second_request(first, port) for port in (1, 2)] == [b"keep-alive"] * 2
    clock.now += 1.5  # both went quiet; two new ones are then all this worker holds
    assert [_second_request(first, port) for port in (3, 4)] == [b"keep-alive"] * 2
    # Connections used once (health probes, clients without keep-alive) never count.
    assert all(_connection_header(first, port) == b"keep-alive" for port in range(100, 140))
    assert _second_request(first, 5) == b"close"  # a third counted connection is over 3 / 2 + 1


def test_off_outside_a_multi_worker_server(tmp_path):
    one = ConnectionBalanceMiddleware(_app, workers=1, slack=0, idle_s=1.0, worker_index=lambda: 1)
    no_index = ConnectionBalanceMiddleware(_app, workers=2, slack=0, idle_s=1.0, worker_index=lambda: None)
    for middleware in (one, no_index):
        assert all(_connection_header(middleware, port) == b"keep-alive" for port in range(20))
    with pytest.raises(ValueError, match="worker_index"):
        ConnectionTable(tmp_path / "t", 2, 3)
    with pytest.raises(ValueError, match="slack"):
        ConnectionBalanceMiddleware(_app, workers=2, slack=-1, idle_s=1.0)


def test_tables_of_ended_servers_are_removed(tmp_path):
    import os
    import subprocess
    import sys

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                           text=True, check=True)
    gone = tmp_path / f"{TABLE_PREFIX}{int(ended.stdout)}"
    alive = tmp_path / f"{TABLE_PREFIX}{os.getpid()}"
    other = tmp_path / "unrelated-123"
    for path in (gone, alive, other):
        path.write_bytes(b"\0" * 16)
    assert remove_ended_tables(tmp_path) == [gone]
    assert not gone.exists() and alive.exists() and other.exists()
    table = ConnectionTable.for_server(2, 1, directory=tmp_path)  # named by this process's parent
    assert table.path == tmp_path / f"{TABLE_PREFIX}{os.getppid()}" and alive.exists()
