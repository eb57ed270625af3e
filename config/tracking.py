"""Where MLflow runs and registered models live: one set-up shared by training/ and serving/.

Embedded default: a SQLite store `runs/mlflow.db` with local artifacts in `runs/mlartifacts`; set
MLFLOW_TRACKING_URI (e.g. `http://127.0.0.1:5000` of an `mlflow server` on PostgreSQL) to use a server
instead. SQLite is put in WAL mode with a busy timeout so concurrent writers (parallel runs, a UI)
wait instead of failing with 'database is locked'.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import mlflow

from config import project_config

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri[len("sqlite:///"):])


def prepare_sqlite(path: Path) -> None:
    """Create the folder and switch the database to WAL journaling (persistent per database file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000) as con:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def configure_tracking(tracking_uri: str | None = None, experiment: str | None = None) -> str:
    """Point MLflow (tracking and registry) at the configured store and select the experiment.

    Returns the tracking URI in use. For a SQLite store the experiment's artifacts go to a local
    folder `mlartifacts/` beside the database file. Inside `mlflow run` (MLFLOW_RUN_ID set) the
    experiment is left as `mlflow run` set it.
    """
    cfg = project_config()
    uri = tracking_uri or cfg.resolved_tracking_uri()
    sqlite_path = _sqlite_path(uri)
    if sqlite_path is not None:
        prepare_sqlite(sqlite_path)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if os.environ.get("MLFLOW_RUN_ID") and experiment is None:
        # inside `mlflow run`: the project run already exists in the experiment `mlflow run` chose
        # (--experiment-name); switching experiments would make start_run refuse to resume it
        return uri
    name = experiment or cfg.experiment
    if mlflow.get_experiment_by_name(name) is None:
        artifact_location = None
        if sqlite_path is not None:
            artifact_location = (sqlite_path.parent / "mlartifacts").resolve().as_uri()
        mlflow.create_experiment(name, artifact_location=artifact_location)
    mlflow.set_experiment(name)
    return uri
