"""A small closed-loop HTTP/1.1 load generator for the serving benchmark, cheap enough per request that
on a 2-core machine it leaves the cores to the server it measures.

`clients` asyncio connections (keep-alive) each send `requests` POSTs one after the other (the next
as soon as the previous answer is read: no think time) with request bodies taken in turn from
`bodies`. Latency of a request = from writing its first byte to reading the last byte of its answer
(milliseconds). Answers with Content-Length or chunked transfer encoding are read in full. When an
answer carries `Connection: close`, the client opens a new connection for its next request, as HTTP/1.1
clients do, and that request's latency includes the connect.

Run as a separate process so that its CPU is its own (and visible):

    python -m benchmarks.http_load --port 3000 --path /rank_family --bodies bodies.json \
        --clients 32 --requests 50 [--token-env DESIL_BENCH_TOKEN]

bodies.json: a JSON list of request bodies (each sent as application/json). Prints one JSON object:
requests, seconds, req_per_s, p50_ms, p90_ms, p99_ms, max_ms, status counts, client_cpu_s, reconnects (requests
that opened a new connection after a `Connection: close`) and p99_ms_without_reconnects.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time

import numpy as np


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 answer; returns (status code, whether the server closes the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, headers.get("connection", "").lower() == "close"


def _request(host: str, port: int, path: str, token: str | None, body: bytes) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n{auth}"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n").encode("latin-1") + body


async def _client(host: str, port: int, payloads: list[bytes], offset: int, n: int,
                  latencies: list[float], statuses: list[int], starts: list[float], reconnects: list[bool]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    closing = False
    try:
        for i in range(n):
            t0 = time.perf_counter()
            starts.append(t0)
            reconnects.append(closing)
            if closing:  # the server ended keep-alive with its last answer: reconnect (counted in this request)
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(payloads[(offset + i) % len(payloads)])
            await writer.drain()
            status, closing = await _read_answer(reader)
            statuses.append(status)
            latencies.append(time.perf_counter() - t0)
    finally:
        writer.close()


async def run_load(host: str, port: int, path: str, bodies: list[object], clients: int, requests: int,
                   token: str | None = None) -> dict[str, object]:
    """Closed loop: `clients` connections x `requests` POSTs each (module docstring). Returns the summary."""
    payloads = [_request(host, port, path, token, json.dumps(b, separators=(",", ":")).encode()) for b in bodies]
    latencies: list[float] = []
    reconnects: list[bool] = []
    statuses: list[int] = []
    starts: list[float] = []
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    await asyncio.gather(*(_client(host, port, payloads, k * requests, requests, latencies, statuses, starts, reconnects)
                           for k in range(clients)))
    seconds = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    lat = np.asarray(latencies) * 1000.0
    codes: dict[str, int] = {}
    for s in statuses:
        codes[str(s)] = codes.get(str(s), 0) + 1
    return {"clients": clients, "requests": len(lat), "seconds": seconds, "req_per_s": len(lat) / seconds,
            "p50_ms": float(np.percentile(lat, 50)), "p90_ms": float(np.percentile(lat, 90)),
            "p99_ms": float(np.percentile(lat, 99)), "max_ms": float(lat.max()), "status": codes,
            "non_200": sum(n for s, n in codes.items() if s != "200"),
            "client_cpu_s": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
            "reconnects": int(sum(reconnects)),
            "p99_ms_without_reconnects": float(np.percentile(lat[~np.asarray(reconnects, dtype=bool)], 99)),
            "timeline": [[round(s - t0, 4), round(x * 1000.0, 2)] for s, x in zip(starts, latencies, strict=True)]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--bodies", required=True, help="JSON file: a list of request bodies")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--requests", type=int, default=50, help="requests per client")
    parser.add_argument("--timeline", action="store_true", help="also print [start s, latency ms] per request")
    parser.add_argument("--token-env", default="DESIL_BENCH_TOKEN", help="env var holding the bearer token")
    args = parser.parse_args(argv)
    with open(args.bodies, encoding="utf-8") as fh:
        bodies = json.load(fh)
    result = asyncio.run(run_load(args.host, args.port, args.path, bodies, args.clients, args.requests,
                                  os.environ.get(args.token_env)))
    if not args.timeline:
        result.pop("timeline")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
