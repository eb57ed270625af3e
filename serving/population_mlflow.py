"""MLflow for the batch jobs of serving/: point at the tracking store, load the registered PMT model
with its resolved version, and log tables and figures.

The store set-up is config/tracking.py, the same one training/ uses, so runs of both sides sit in
one store (serving/ never imports training/).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import mlflow.pyfunc
import pandas as pd
from matplotlib.figure import Figure

from config import project_config
from config.tracking import configure_tracking
from models.pmt import PMTModel
from models.registry_uri import normalise_ref, resolve_version


def use_tracking(tracking_uri: str | None = None, experiment: str | None = None) -> str:
    """Set MLflow's tracking and registry URI and experiment; returns the URI in use."""
    return configure_tracking(tracking_uri, experiment)


@dataclass(frozen=True)
class LoadedModel:
    """A PMT model and where it came from: uri as given (normalised), registered name/version, run id."""

    model: PMTModel
    uri: str
    name: str | None
    version: str | None
    run_id: str | None

    def key(self) -> dict[str, str | None]:
        return {"model_uri": self.uri, "model_name": self.name, "model_version": self.version,
                "model_run_id": self.run_id}


def load_pmt(ref: str) -> LoadedModel:
    """Load the PMTModel of a registered `desil-pmt` reference (models.registry_uri forms).

    The alias is resolved to a version first and the model is loaded by version, so a run logs the
    exact version it used even if the alias moves meanwhile.
    """
    uri = normalise_ref(ref, project_config().pmt_model_name)
    name, version, run_id = resolve_version(uri)
    load_uri = f"models:/{name}/{version}" if name is not None and version is not None else uri
    wrapper = mlflow.pyfunc.load_model(load_uri).unwrap_python_model()
    model = getattr(wrapper, "model", None)
    if not isinstance(model, PMTModel):
        raise TypeError(f"{uri} is not a desil-pmt model (its python model holds {type(model).__name__})")
    if model.cut_points is None:
        raise ValueError(f"{uri} has no cut points; it cannot rank")
    return LoadedModel(model=model, uri=uri, name=name, version=version, run_id=run_id)


def log_table(df: pd.DataFrame, name: str, folder: str = "tables") -> None:
    """Log a table as CSV and Parquet artifacts under `folder/`."""
    with tempfile.TemporaryDirectory() as tmp:
        df.to_csv(Path(tmp) / f"{name}.csv", index=False)
        df.to_parquet(Path(tmp) / f"{name}.parquet", index=False)
        mlflow.log_artifacts(tmp, folder)


def log_figure(fig: Figure, name: str, folder: str = "plots") -> None:
    mlflow.log_figure(fig, f"{folder}/{name}.png")
