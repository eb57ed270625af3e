"""Photo features for PMT training: classify every photo of a manifest with a registered house-cnn
version and turn the per-photo probabilities into per-family PMT features.

The PMT model records the house-cnn version returned here; scoring refuses photo features from any
other version (models.pmt_pyfunc.rank_nested).
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd

from config import project_config
from data.photos import read_manifest
from features.photo_features import photo_features_from_predictions
from models.registry_uri import normalise_ref, resolve_version


def resolve_cnn_version(ref: str) -> tuple[str, str]:
    """(load URI, registered version) of a house-cnn reference such as '@champion' or '3'."""
    name = project_config().cnn_model_name
    uri = normalise_ref(ref, name)
    if not uri.startswith(f"models:/{name}"):
        raise ValueError(f"{ref!r} is not a registered {name} version; use @ALIAS or VERSION of {name}")
    _, version, _ = resolve_version(uri)
    return f"models:/{name}/{version}", str(version)


def photo_features_for_manifest(manifest: str | Path, cnn_ref: str) -> tuple[pd.DataFrame, str]:
    """Classify the manifest's photos with `cnn_ref`; returns (features indexed by family_id, version)."""
    uri, version = resolve_cnn_version(cnn_ref)
    photos = read_manifest(manifest)
    model = mlflow.pyfunc.load_model(uri)
    pred = model.predict(photos[["family_id", "kind", "image_path"]].astype({"family_id": str, "kind": str}))
    return photo_features_from_predictions(pred), version
