"""Request-size limits of the scoring service: body bytes per route (ASGI middleware) and the counted
limits routes apply after parsing (families, photos, image size), all answering 413 with the limit.

Statuses: 413 when a request is too large (body, families, photos, image bytes or pixels); 422 when it
is well-formed HTTP but its content cannot be used (not Parquet, not an image, missing columns).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.serving import LimitsConfig


class RequestRejected(Exception):
    """A request the service will not process; `status` is the HTTP status (4xx), message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def too_large(what: str, count: int, limit: int, hint: str = "") -> RequestRejected:
    """413 naming what was counted, how many were sent and the limit."""
    return RequestRejected(413, f"{what}: {count:,} sent, at most {limit:,} accepted per request" +
                           (f"; {hint}" if hint else ""))


def check_count(what: str, count: int, limit: int, hint: str = "") -> None:
    """Raise a 413 RequestRejected when count > limit."""
    if count > limit:
        raise too_large(what, count, limit, hint)


async def _reject(send: Send, status: int, message: str) -> None:
    payload = json.dumps({"error": message}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})


class BodySizeLimitMiddleware:
    """ASGI middleware: 413 when a request body exceeds the route's limit (LimitsConfig.body_limit).

    A declared Content-Length over the limit is refused before the body is read; a body without one
    (chunked) is read up to the limit and refused as soon as it goes over, then replayed to the app."""

    def __init__(self, app: ASGIApp, limits: LimitsConfig) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limits.body_limit(scope["path"])
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reject(send, 400, "Content-Length is not a number")
                    return
                break
        message = f"request body larger than {limit:,} bytes, the limit of {scope['path']}"
        if declared is not None:
            if declared > limit:
                await _reject(send, 413, message)
                return
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        size = 0
        while True:
            msg = await receive()
            buffered.append(msg)
            if msg["type"] != "http.request":
                break
            size += len(msg.get("body", b""))
            if size > limit:
                await _reject(send, 413, message)
                return
            if not msg.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)
