"""serving.connection_recycling.ConnectionRecycleMiddleware: every n-th response of a connection says
`Connection: close`, other responses and other connections are left alone, 0 switches it off."""

from __future__ import annotations

import asyncio

import pytest

from serving.connection_recycling import ConnectionRecycleMiddleware


async def _app(scope, receive, send):
    """A minimal ASGI app: 200 with its own headers (one of them a keep-alive it asks for)."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"connection", b"keep-alive")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _headers(middleware, client: tuple[str, int]) -> dict[bytes, bytes]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    asyncio.run(middleware({"type": "http", "client": client}, receive, send))
    assert sent[1]["body"] == b"ok"  # the answer itself is untouched
    return dict(sent[0]["headers"])


def test_a_connection_is_closed_after_its_limit_and_limits_are_spread():
    mw = ConnectionRecycleMiddleware(_app, max_requests=10)
    limits = {port: mw.limit_for(("127.0.0.1", port)) for port in range(40000, 40200)}
    assert all(5 <= v < 15 for v in limits.values()) and len(set(limits.values())) >= 8
    for port in (40000, 40001):
        client = ("127.0.0.1", port)
        n = limits[port]
        seen = [_headers(mw, client)[b"connection"] for _ in range(2 * n + 1)]
        assert seen == ([b"keep-alive"] * (n - 1) + [b"close"]) * 2 + [b"keep-alive"]


def test_zero_switches_it_off_and_the_counters_are_bounded():
    off = ConnectionRecycleMiddleware(_app, max_requests=0)
    assert all(_headers(off, ("10.0.0.1", 9))[b"connection"] == b"keep-alive" for _ in range(5))
    small = ConnectionRecycleMiddleware(_app, max_requests=1000, max_tracked=4)
    for port in range(10):
        _headers(small, ("10.0.0.2", port))
    assert len(small._served) == 4
    with pytest.raises(ValueError, match="max_requests"):
        ConnectionRecycleMiddleware(_app, max_requests=-1)
