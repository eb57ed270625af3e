"""Run the scoring service as a real `bentoml serve` process on loopback: start it, wait for
/readyz, stop it with its workers. Used by the demo, the HTTP tests and the serving benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from config import PROJECT_ROOT

SERVICE = "serving.service:DesilService"


class ServiceNotReady(RuntimeError):
    """The service exited or did not answer /readyz in time; the message holds the log's tail."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_service(port: int, env: dict[str, str], log: Path, host: str = "127.0.0.1") -> subprocess.Popen:
    """Start `bentoml serve` in its own process group (so stop_service ends its workers too)."""
    cmd = [str(Path(sys.executable).parent / "bentoml"), "serve", SERVICE, "--host", host, "--port", str(port)]
    with log.open("wb") as fh:
        return subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_ready(proc: subprocess.Popen, base: str, log: Path, timeout_s: float) -> None:
    """Poll `{base}/readyz` every 0.5 s until 200; raise ServiceNotReady if the process exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise ServiceNotReady(f"bentoml serve exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise ServiceNotReady(f"service not ready after {timeout_s:.0f} s:\n{_tail(log)}")
        time.sleep(0.5)


def stop_service(proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    """SIGTERM the process group, SIGKILL it if it has not ended within timeout_s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"
