"""The demo's last step: start the BentoML service as a real process on 127.0.0.1, score a sample
batch over HTTP with a fresh bearer token, print the answer, and stop the service."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pandas as pd
from rich.console import Console
from rich.table import Table

from features.nested_input import to_json_records
from serving.auth import hash_token, new_token
from serving.process import free_port, start_service, stop_service, wait_ready

READY_TIMEOUT_S = 180.0


def score_sample_over_http(population: Path, tracking_uri: str, work_dir: Path, console: Console,
                           n_families: int = 8) -> pd.DataFrame:
    """Start `bentoml serve`, POST `n_families` families to /rank, return the results as a table."""
    work_dir.mkdir(parents=True, exist_ok=True)
    token = new_token()
    token_file = work_dir / "demo_tokens.txt"
    token_file.write_text(f"{hash_token(token)} demo\n", encoding="utf-8")
    port = free_port()
    env = dict(os.environ, MLFLOW_TRACKING_URI=tracking_uri, DESIL_TOKEN_HASHES_FILE=str(token_file),
               BENTOML_DO_NOT_TRACK="True")
    log = work_dir / "service.log"
    base = f"http://127.0.0.1:{port}"
    proc = start_service(port, env, log)
    try:
        with console.status(f"starting the scoring service on {base} ..."):
            wait_ready(proc, base, log, READY_TIMEOUT_S)
        families = pd.read_parquet(population / "families.parquet").head(n_families)
        members = pd.read_parquet(population / "members.parquet", filters=[("family_id", "in", families["family_id"].tolist())])
        response = httpx.post(f"{base}/rank", json={"families": to_json_records(families, members)},
                              headers={"Authorization": f"Bearer {token}"}, timeout=60)
        response.raise_for_status()
        body = response.json()
        results = pd.DataFrame(body["results"])
        pmt = (body.get("model") or {}).get("pmt") or {}
        table = Table(title=f"POST {base}/rank: {len(results)} families, desil-pmt version {pmt.get('version')}")
        for col in ("family_id", "desil", "p_desil_le_4", "programs", "exclusion_rule"):
            table.add_column(col)
        for _, row in results.iterrows():
            programs = row.get("programs")
            table.add_row(str(row["family_id"]), str(row["desil"]), f"{row['p_desil_le_4']:.2f}",
                          ";".join(programs) if isinstance(programs, list) else str(programs or ""),
                          "" if pd.isna(row.get("exclusion_rule")) else str(row["exclusion_rule"]))
        console.print(table)
        console.print(f"The service answered over HTTP; while it runs, its Swagger UI is at {base}/ "
                      "(start it yourself with `desil serve --tokens FILE`, tokens from `desil token create`).")
        return results
    finally:
        stop_service(proc)
