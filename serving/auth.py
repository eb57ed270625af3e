"""Bearer-token authentication for the scoring service: token creation, hashing, and an ASGI middleware.

Tokens are never stored by the service, only their SHA-256 hashes, written `sha256:<64 hex>` one per
line (optionally followed by a label, e.g. the client's name; `#` starts a comment). Hashes come from
the file named by env DESIL_TOKEN_HASHES_FILE and/or env DESIL_TOKEN_HASHES (comma separated); the env
names are set in config/serving.yaml. A presented token is hashed and compared with every stored hash
in constant time (hmac.compare_digest), so timing reveals neither which hash nor how much matched.

Answers: no or malformed `Authorization: Bearer <token>` -> 401 (with WWW-Authenticate); a token whose
hash is not listed -> 403. Public paths (health, readiness, metrics and, when configured, the API docs)
pass without a token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from config.serving import AuthConfig

logger = logging.getLogger("desil.serving.auth")

HASH_PREFIX = "sha256:"
HASH_LINE = re.compile(r"^sha256:([0-9a-f]{64})(?:\s+.*)?$")
TOKEN_BYTES = 32  # 256 bits of randomness, URL-safe base64 (43 characters)


class TokenConfigError(RuntimeError):
    """No usable token hash is configured, or a hash line is malformed (names the source and line)."""


def new_token() -> str:
    """A fresh random bearer token (URL-safe, 43 characters). Show it once; store only its hash."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of a token: 'sha256:' + hex SHA-256 of its UTF-8 bytes."""
    return HASH_PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_hash_lines(lines: Iterable[str], source: str) -> list[bytes]:
    """Digests (32 bytes each) from 'sha256:<hex> [label]' lines; blank and '#' lines are skipped.

    Raises TokenConfigError naming `source` and the line number of a malformed line (a raw token pasted
    by mistake must not be accepted as a hash)."""
    digests: list[bytes] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = HASH_LINE.match(line)
        if match is None:
            raise TokenConfigError(
                f"{source} line {number}: expected 'sha256:<64 lowercase hex>' optionally followed by a label; "
                "create one with `desil token create`")
        digests.append(bytes.fromhex(match.group(1)))
    return digests


def load_token_hashes(cfg: AuthConfig) -> list[bytes]:
    """All configured token digests (file and env). Raises TokenConfigError when none is configured:
    the service never runs open by accident."""
    digests: list[bytes] = []
    sources: list[str] = []
    file_name = os.environ.get(cfg.token_hashes_file_env)
    if file_name:
        path = Path(file_name)
        if not path.is_file():
            raise TokenConfigError(f"{cfg.token_hashes_file_env}={file_name}: no such file")
        digests += parse_hash_lines(path.read_text(encoding="utf-8").splitlines(), str(path))
        sources.append(str(path))
    env_value = os.environ.get(cfg.token_hashes_env)
    if env_value:
        digests += parse_hash_lines(env_value.split(","), f"env {cfg.token_hashes_env}")
        sources.append(f"env {cfg.token_hashes_env}")
    if not digests:
        raise TokenConfigError(
            f"no API token configured: set {cfg.token_hashes_file_env} to a file of token hashes or "
            f"{cfg.token_hashes_env} to hashes (comma separated); create a token with `desil token create`")
    return digests


def token_matches(token: str, digests: list[bytes]) -> bool:
    """True when sha256(token) equals one of `digests`; every digest is compared (constant time)."""
    presented = hashlib.sha256(token.encode("utf-8")).digest()
    found = False
    for digest in digests:
        found |= hmac.compare_digest(presented, digest)
    return found


def is_public(path: str, cfg: AuthConfig) -> bool:
    """Whether `path` may be called without a token."""
    if path in cfg.public_paths:
        return True
    if cfg.docs_public:
        return path in cfg.docs_paths or any(path.startswith(p) for p in cfg.docs_prefixes)
    return False


async def _send_json(send: Send, status: int, body: dict, extra_headers: list[tuple[bytes, bytes]] = ()) -> None:
    payload = json.dumps(body).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
               *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class BearerTokenMiddleware:
    """ASGI middleware: lets public paths through, requires a listed bearer token everywhere else.

    Token hashes are read once, when the worker builds its app (restart the service to add or revoke
    tokens)."""

    def __init__(self, app: ASGIApp, auth: AuthConfig) -> None:
        self.app = app
        self.auth = auth
        self.digests = load_token_hashes(auth)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"], self.auth):
            await self.app(scope, receive, send)
            return
        header = ""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            await _send_json(send, 401, {"error": "missing bearer token: send 'Authorization: Bearer <token>'"},
                             [(b"www-authenticate", b'Bearer realm="desil"')])
            return
        if not token_matches(token, self.digests):
            logger.warning("rejected a request to %s: unknown token", scope["path"])
            await _send_json(send, 403, {"error": "token not accepted"})
            return
        await self.app(scope, receive, send)
