"""The registered `desil-pmt` MLflow model: a pyfunc wrapper around a fitted PMTModel.

Input: one row per family with the families-table fields and a `members` column (list of member
records or a JSON string of that list); optional photo feature columns (photo_*), which must come
from the house-cnn version the model records (pass it as params {"photo_model_version": "N"}).
Output: models.ranking.rank_families columns, one row per input family, in input order.
"""

from __future__ import annotations

import pickle
from typing import Any

import mlflow.pyfunc
import pandas as pd

from features.nested_input import split_nested
from models.pmt import PMTModel
from models.ranking import rank_families

PMT_ARTIFACT = "pmt_model"


class PhotoModelMismatch(ValueError):
    """Photo features were produced by a different house-cnn version than the PMT model consumes."""


class PMTPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the pickled PMTModel from the `pmt_model` artifact and ranks nested family frames."""

    def __init__(self) -> None:
        self.model: PMTModel | None = None

    def load_context(self, context: Any) -> None:
        with open(context.artifacts[PMT_ARTIFACT], "rb") as fh:
            self.model = pickle.load(fh)

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        if self.model is None:
            raise RuntimeError("PMT model not loaded")
        return rank_nested(self.model, model_input, (params or {}).get("photo_model_version"))


def photo_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("photo_")]


def photo_frame(model: PMTModel, frame: pd.DataFrame, photo_model_version: str | None) -> pd.DataFrame | None:
    """The photo_* columns of a nested frame or families table (index family_id), or None when it
    carries no photo value.
    Raises PhotoModelMismatch when the model was trained without photo features or on another house-cnn
    version than `photo_model_version`. One check for ranking and explaining."""
    cols = photo_columns(frame)
    if not cols or not frame[cols].notna().to_numpy().any():
        return None
    expected = model.photo_model_version
    if expected is None:
        raise PhotoModelMismatch("this PMT model was trained without photo features; drop the photo_* columns")
    if photo_model_version is None or str(photo_model_version) != str(expected):
        raise PhotoModelMismatch(
            f"photo features come from house-cnn version {photo_model_version!r}, but this PMT model "
            f"was trained on house-cnn version {expected!r}; re-run the photos through that version")
    return frame[["family_id", *cols]].set_index("family_id")


def split_photo_features(model: PMTModel, families: pd.DataFrame,
                         photo_model_version: str | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(families without their photo_* columns, the photo features or None), checked by photo_frame
    (PhotoModelMismatch). The split ranking and explaining both make."""
    photo = photo_frame(model, families, photo_model_version)
    cols = photo_columns(families)
    return (families.drop(columns=cols) if cols else families), photo


def rank_tables(model: PMTModel, families: pd.DataFrame, members: pd.DataFrame,
                photo_model_version: str | None = None) -> pd.DataFrame:
    """rank_families on a families table that may carry photo_* columns (checked by photo_frame, then
    passed as photo features) and its members table."""
    families, photo = split_photo_features(model, families, photo_model_version)
    return rank_families(model, families, members, photo)


def rank_nested(model: PMTModel, nested: pd.DataFrame, photo_model_version: str | None = None) -> pd.DataFrame:
    """rank_families on a nested frame; refuses photo features from a mismatched house-cnn version."""
    families, members = split_nested(nested)
    return rank_tables(model, families, members, photo_model_version)
