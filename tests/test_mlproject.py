"""The MLproject entry points run through `mlflow run` (local env manager) and log into the project's
MLflow store: the synth entry writes a population, train_pmt trains, logs and registers inside the run
that `mlflow run` created."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from config import PROJECT_ROOT


def _mlflow_run(entry: str, params: dict[str, str], env: dict[str, str]) -> subprocess.CompletedProcess:
    cmd = [str(Path(sys.executable).parent / "mlflow"), "run", str(PROJECT_ROOT), "-e", entry,
           "--env-manager", "local", "--experiment-name", "dtsen-desil"]
    for key, value in params.items():
        cmd += ["-P", f"{key}={value}"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT)


def test_synth_and_train_pmt_entry_points(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    bindir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update({"MLFLOW_TRACKING_URI": uri, "PATH": bindir + os.pathsep + env.get("PATH", "")})
    pop = tmp_path / "pop"
    synth = _mlflow_run("synth", {"families": "20000", "seed": "5", "out": str(pop)}, env)
    assert synth.returncode == 0, synth.stderr[-3000:]
    assert (pop / "families.parquet").exists() and (pop / "survey.parquet").exists()

    train = _mlflow_run("train_pmt", {"data": str(pop), "model": "ols", "seed": "2", "alias": "challenger"}, env)
    assert train.returncode == 0, train.stderr[-3000:]
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = client.get_model_version_by_alias("desil-pmt", "challenger")
    run = client.get_run(version.run_id)
    assert run.data.tags.get("mlflow.project.entryPoint") == "train_pmt"
    assert run.data.params["model_kind"] == "ols"
    assert "exclusion_error_d4_family" in run.data.metrics
