"""Benchmark the scoring service over HTTP against in-process scoring with the same model (issue 5 §4).

Starts `bentoml serve serving.service:DesilService` on a free local port and reports, in one run:
- one family per request (rank_family, batched per worker by serving.micro_batching; and rank,
  unbatched) at 1 and 32 concurrent clients: requests/s, p50 and p99 latency (ms);
- 1,000-family JSON batches (rank) and Parquet uploads (rank_file, two-table form, 1,000 and 10,000
  families): families/s;
each with the ratio to in-process scoring of the same families (models.pmt_pyfunc.rank_nested /
models.ranking.rank_families on the model loaded from the registry, one call per request's families).
Goals (issue 5): p99 <= 50 ms for one family at 32 clients; Parquet >= 0.5x in-process.

By default it generates a population and trains a LightGBM PMT into a temporary SQLite store; pass
--store and --data to reuse a registered model and its population folder. The clients run in this
process (benchmarks/http_load.py, asyncio); on a small machine it still shares the cores with the server,
so its CPU seconds are reported beside each row.

    python benchmarks/bench_serving.py [--families 10000] [--out bench_serving.json]
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import httpx
import mlflow.pyfunc
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
# Distinct families sent one per request. Client k starts at body k * per_client (benchmarks.http_load), so
# with 1,024 bodies and 200 requests per client no two of 32 clients send the same family at the same
# step, as in real traffic. (With 64 bodies, clients k, k+8, k+16 and k+24 sent the same family in step,
# and the copies in one rank_family batch had been scored in separate calls.)
SINGLE_FAMILIES = 1024
sys.path.insert(0, str(ROOT))

from features.nested_input import to_json_records, to_nested  # noqa: E402
from models.pmt_pyfunc import rank_nested  # noqa: E402
from models.ranking import rank_families  # noqa: E402
from serving.auth import hash_token, new_token  # noqa: E402
from serving.process import free_port, start_service, stop_service, wait_ready  # noqa: E402

console = Console(stderr=True)


def start_server(uri: str, token_file: Path, work: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESIL_", "BENTOML_"))}
    env.update({"MLFLOW_TRACKING_URI": uri, "DESIL_TOKEN_HASHES_FILE": str(token_file),
                "BENTOML_HOME": str(work / "bentoml_home"), "BENTOML_DO_NOT_TRACK": "True"})
    log = work / "server.log"
    proc = start_service(port, env, log)
    base = f"http://127.0.0.1:{port}"
    wait_ready(proc, base, log, timeout_s=300)
    return proc, base


_WORKER_BATCH = re.compile(r"\[entry_service:desil:(\d+)\][^\n]*rank_family batch families=(\d+)")


def families_per_worker(log: Path, start: int) -> str:
    """'a/b': families each worker scored in rank_family calls logged after byte `start` of the server
    log. The workers share one listening socket, so how the clients' connections spread over them is
    up to the accept race (all on one worker happens), and that sets how much of the 2 cores they get."""
    time.sleep(0.5)  # the workers' log lines reach the file through the bentoml serve process
    counts: dict[str, int] = {}
    for worker, n in _WORKER_BATCH.findall(log.read_bytes()[start:].decode(errors="replace")):
        counts[worker] = counts.get(worker, 0) + int(n)
    return "/".join(str(counts[w]) for w in sorted(counts)) or "-"


def load(base: str, token: str, route: str, bodies: list[dict], clients: int, per_client: int,
         work: Path) -> dict:
    """`clients` keep-alive connections each sending `per_client` requests back to back, from a separate
    process (benchmarks/http_load.py: asyncio, a few hundred microseconds of CPU per request, so the
    server keeps the cores); returns req/s, p50/p99 ms, non-200 count and the client's CPU seconds."""
    bodies_file = work / "bodies.json"
    bodies_file.write_text(json.dumps(bodies), encoding="utf-8")
    port = base.rsplit(":", 1)[1]
    env = {**os.environ, "DESIL_BENCH_TOKEN": token}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.http_load", "--port", port, "--path", route,
                           "--bodies", str(bodies_file), "--clients", str(clients), "--requests", str(per_client)],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def in_process_rate(fn, n_families: int, repeats: int) -> float:
    """Families per second of fn() (which scores n_families) over `repeats` calls after one warm-up."""
    fn()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return n_families * repeats / (time.perf_counter() - t0)


@click.command()
@click.option("--families", "n_families", type=int, default=10_000, show_default=True,
              help="population to generate (ignored with --data)")
@click.option("--store", default=None, help="MLflow tracking URI holding desil-pmt@champion (with --data)")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="population folder (families.parquet, members.parquet)")
@click.option("--per-client", type=int, default=200, show_default=True,
              help="one-family requests each client sends to rank_family (a run of several seconds, so that "
                   "the 32 connections' start-up is well under 1 % of the requests)")
@click.option("--unbatched-per-client", type=int, default=20, show_default=True,
              help="one-family requests each client sends to the unbatched rank route (much slower)")
@click.option("--repeats", type=int, default=3, show_default=True,
              help="rank_family at 32 clients is measured this many times (fresh connections each time: how "
                   "they spread over the workers differs from run to run)")
@click.option("--singles-only", is_flag=True, help="only the one-family-per-request rows")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None, help="write results as JSON")
def main(n_families: int, store: str | None, data_dir: str | None, per_client: int, unbatched_per_client: int,
         repeats: int, singles_only: bool,
         out_path: str | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench_serving_"))
    if store is None or data_dir is None:
        from data.synth import write_population
        from training.train_pmt import train_pmt

        data_dir = str(work / "population")
        store = f"sqlite:///{work / 'mlflow.db'}"
        with console.status(f"generating {n_families:,} families and training a LightGBM PMT"):
            write_population(n_families, seed=11, out_dir=data_dir, progress=False)
            train_pmt(data_dir, "lgbm", seed=0, register=True, alias="champion", tracking_uri=store)
    families = pd.read_parquet(Path(data_dir) / "families.parquet")
    members = pd.read_parquet(Path(data_dir) / "members.parquet")
    token = new_token()
    token_file = work / "tokens.txt"
    token_file.write_text(hash_token(token) + " bench\n", encoding="utf-8")
    headers = {"Authorization": f"Bearer {token}"}

    mlflow.set_tracking_uri(store)
    model = mlflow.pyfunc.load_model("models:/desil-pmt@champion").unwrap_python_model().model

    def sample(n: int, offset: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
        fam = families.iloc[offset:offset + n]
        return fam, members[members["family_id"].isin(fam["family_id"])]

    rows: list[dict] = []
    with console.status("starting the service"):
        proc, base = start_server(store, token_file, work)
    try:
        singles_f, singles_m = sample(SINGLE_FAMILIES)
        singles = to_json_records(singles_f, singles_m)
        one_bodies = [{"families": [f]} for f in singles]
        nested_one = [to_nested(singles_f.iloc[[i]], singles_m[singles_m["family_id"] == singles_f["family_id"].iloc[i]])
                      for i in range(8)]
        local_one = in_process_rate(lambda: [rank_nested(model, n) for n in nested_one], len(nested_one), 3)
        load(base, token, "/rank_family", one_bodies, 32, 5, work)  # warm-up (every worker)
        for route in ("/rank_family", "/rank"):
            for clients in (1, *([32] * (repeats if route == "/rank_family" else 1))):
                log_start = (work / "server.log").stat().st_size
                with console.status(f"{route}: one family per request, {clients} client(s)"):
                    res = load(base, token, route, one_bodies, clients,
                               per_client if route == "/rank_family" else unbatched_per_client, work)
                split = families_per_worker(work / "server.log", log_start) if route == "/rank_family" else "-"
                rows.append({"case": f"{route} 1 family/request", "clients": clients, **res,
                             "families_per_s": res["req_per_s"], "in_process_families_per_s": local_one,
                             "families_per_worker": split})

        if singles_only:
            return _report(rows, out_path)
        batch_f, batch_m = sample(1000, offset=1000)
        batch_body = [{"families": to_json_records(batch_f, batch_m)}]
        nested_batch = to_nested(batch_f, batch_m)
        local_batch = in_process_rate(lambda: rank_nested(model, nested_batch), 1000, 3)
        with console.status("/rank: 1,000-family JSON batches"):
            res = load(base, token, "/rank", batch_body, 1, 5, work)
        rows.append({"case": "/rank 1,000-family JSON batch", "clients": 1, **res,
                     "families_per_s": res["req_per_s"] * 1000, "in_process_families_per_s": local_batch})

        for n in (1000, 10_000):
            pf, pm = sample(min(n, len(families)), offset=0)
            fb, mb = io.BytesIO(), io.BytesIO()
            pf.to_parquet(fb, index=False)
            pm.to_parquet(mb, index=False)
            local_parquet = in_process_rate(
                lambda pf=pf, pm=pm, fb=fb, mb=mb: rank_families(model, pd.read_parquet(io.BytesIO(fb.getvalue())),
                                                                  pd.read_parquet(io.BytesIO(mb.getvalue()))),
                len(pf), 2)
            latencies = []
            with console.status(f"/rank_file: {len(pf):,}-family Parquet uploads"), \
                    httpx.Client(base_url=base, headers=headers, timeout=600) as c:
                c.post("/rank_file", files={"families": ("f.parquet", fb.getvalue()),
                                            "members": ("m.parquet", mb.getvalue())})
                for _ in range(3):
                    t0 = time.perf_counter()
                    r = c.post("/rank_file", files={"families": ("f.parquet", fb.getvalue()),
                                                    "members": ("m.parquet", mb.getvalue())})
                    latencies.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text
            mean = float(np.mean(latencies))
            rows.append({"case": f"/rank_file {len(pf):,}-family Parquet (two tables)", "clients": 1,
                         "requests": 3, "req_per_s": 1 / mean, "p50_ms": 1000 * float(np.median(latencies)),
                         "p99_ms": 1000 * max(latencies), "non_200": 0, "families_per_s": len(pf) / mean,
                         "in_process_families_per_s": local_parquet})
    finally:
        stop_service(proc)
    _report(rows, out_path)


def _report(rows: list[dict], out_path: str | None) -> None:
    table = Table(title="desil scoring service vs in-process (same model)")
    for col in ("case", "clients", "req/s", "p50 ms", "p99 ms", "non-200", "families/s", "in-process fam/s", "ratio",
                "client CPU s", "families per worker"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for r in rows:
        r["ratio_to_in_process"] = r["families_per_s"] / r["in_process_families_per_s"]
        table.add_row(r["case"], str(r["clients"]), f"{r['req_per_s']:.1f}", f"{r['p50_ms']:.1f}",
                      f"{r['p99_ms']:.1f}", str(r["non_200"]), f"{r['families_per_s']:,.0f}",
                      f"{r['in_process_families_per_s']:,.0f}", f"{r['ratio_to_in_process']:.2f}",
                      f"{r['client_cpu_s']:.1f}" if "client_cpu_s" in r else "-", r.get("families_per_worker", "-"))
    Console().print(table)
    if out_path:
        Path(out_path).write_text(json.dumps({"cpu_count": os.cpu_count(), "rows": rows}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
