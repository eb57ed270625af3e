"""Close a keep-alive connection after a set number of requests (like nginx's `keepalive_requests`).

The service's workers share one listening socket, and the kernel gives each new connection to the
worker that most recently went back to waiting: a burst of connections, e.g. a pipeline opening its
pool, can land entirely on one worker (BentoML issue #5426). Long-lived keep-alive connections then
keep that worker loaded and leave the other one idle, and a worker can use only one core for its event
loop and its scoring together. Answering every `max_requests`-th request of a connection with
`Connection: close` makes clients reconnect now and then. A busy worker is rarely the one waiting,
so reconnections drift to the less loaded workers. HTTP/1.1 clients (httpx, requests, aiohttp) reopen
the connection themselves; the request itself is answered normally. Off by default
(`max_requests_per_connection: 0`): serving.connection_balancing spreads connections by load instead,
and this only added reconnects next to it.

Connections are told apart by the client's address and port (ASGI `scope["client"]`); at most
`max_tracked` counters are kept (the oldest are dropped, which only delays their recycling). A
connection's limit is spread over [max_requests / 2, 3 * max_requests / 2) by its client port, so that
clients served in the same batches do not all reconnect at once (a burst of reconnects would again
land on one worker).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]


class ConnectionRecycleMiddleware:
    """ASGI middleware: adds `Connection: close` to the `limit_for(client)`-th response of a connection
    (about every max_requests-th). max_requests 0 switches it off."""

    def __init__(self, app: Any, max_requests: int, max_tracked: int = 10_000) -> None:
        if max_requests < 0 or max_tracked < 1:
            raise ValueError(f"max_requests must be >= 0 and max_tracked >= 1, got {max_requests}, {max_tracked}")
        self.app = app
        self.max_requests = max_requests
        self.max_tracked = max_tracked
        self._served: OrderedDict[tuple[Any, ...], int] = OrderedDict()

    def limit_for(self, client: tuple[Any, ...]) -> int:
        """Requests a connection from `client` (host, port) serves before it is closed: between
        max_requests / 2 and 3 * max_requests / 2, fixed per port (a multiplicative hash, no randomness)."""
        port = int(client[1]) if len(client) > 1 and str(client[1]).isdigit() else 0
        return max(1, self.max_requests // 2 + (port * 2654435761 % 2**32) * self.max_requests // 2**32)

    def _last_request(self, scope: Scope) -> bool:
        """Counts this request on its connection; True when the connection should close after it."""
        client = scope.get("client")
        if not client:
            return False
        key = tuple(client)
        served = self._served.pop(key, 0) + 1
        if served >= self.limit_for(key):
            return True
        self._served[key] = served
        if len(self._served) > self.max_tracked:
            self._served.popitem(last=False)
        return False

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.max_requests == 0 or not self._last_request(scope):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, closing_connection(send))


def closing_connection(send: Callable[[Message], Awaitable[None]]) -> Callable[[Message], Awaitable[None]]:
    """An ASGI `send` that gives the response `Connection: close` (replacing any Connection header), so
    that the server closes the connection once the response is sent."""

    async def send_closing(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
            message = {**message, "headers": [*headers, (b"connection", b"close")]}
        await send(message)

    return send_closing
