"""The registered `house-cnn` MLflow model: a pyfunc around models.house_cnn.HouseCNN.

Input: a DataFrame with one row per photo and either `image_path` (path of a JPEG/PNG file readable
where the model runs) or `image_base64` (base64 of the encoded file bytes); optional `family_id` and
`kind` are passed through. Output, in input order: [family_id, kind,] `prob_<head>_<class>` for every
head and class (softmax probabilities, float64) and `<head>_label` (the most probable class; for
habitable 'yes'/'no'). All heads are returned for every photo; features.photo_features uses the heads
the photo's kind shows. A row that is not a readable image raises ImageReadError naming every bad row.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import torch

from features.photo_features import prob_column
from models.house_cnn import HouseCNN, ImageReadError, image_to_uint8, load_image, normalise

WEIGHTS_ARTIFACT = "weights"
META_ARTIFACT = "meta"
PREDICT_BATCH = 64
PASSTHROUGH = ("family_id", "kind")
DEVICE_ENV = "DESIL_CNN_DEVICE"  # auto | cpu | cuda, where the loaded model runs


def inference_device(requested: str | None = None) -> torch.device:
    """`cuda` when a GPU is present (or env DESIL_CNN_DEVICE / `requested` says so), else `cpu`."""
    choice = requested or os.environ.get(DEVICE_ENV, "auto")
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"{DEVICE_ENV}=cuda but no CUDA device is available")
    return torch.device(choice)


def load_house_cnn(weights_path: str, meta: dict[str, Any], device: torch.device | None = None) -> HouseCNN:
    """Rebuild the network from its meta (arch, dropout, heads) and a state-dict file, on `device`."""
    heads = {h: tuple(c) for h, c in meta["heads"].items()}
    model = HouseCNN(meta["arch"], dropout=meta["dropout"], heads=heads)
    model.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    return model.to(device or torch.device("cpu")).eval()


def _row_image(row: pd.Series, position: int):
    who = f"row {position}" + (f" (family {row['family_id']})" if "family_id" in row and pd.notna(row["family_id"]) else "")
    path = row.get("image_path")
    if isinstance(path, str) and path:
        return load_image(path, name=f"{who}: image_path={path!r}")
    data = row.get("image_base64")
    if isinstance(data, str) and data:
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ImageReadError(f"{who}: image_base64 is not valid base64 (expected base64 of a JPEG or PNG file)") \
                from None
        return load_image(raw, name=f"{who}: image_base64")
    raise ImageReadError(f"{who}: neither image_path nor image_base64 is given (one is required)")


def classify_frame(model: HouseCNN, image_size: int, frame: pd.DataFrame) -> pd.DataFrame:
    """Classify every row of a pyfunc input frame; see the module docstring for columns."""
    if not {"image_path", "image_base64"} & set(frame.columns):
        raise ValueError("input needs a column image_path (file path) or image_base64 (base64 of the file bytes)")
    arrays: list[np.ndarray | None] = []
    errors: list[str] = []
    for pos, (_, row) in enumerate(frame.iterrows()):
        try:
            arrays.append(image_to_uint8(_row_image(row, pos), image_size))
        except ImageReadError as err:
            errors.append(str(err))
            arrays.append(None)
    if errors:
        raise ImageReadError(f"{len(errors)} input row(s) are not readable images:\n  " + "\n  ".join(errors[:50]))
    probs: dict[str, list[np.ndarray]] = {h: [] for h in model.head_classes}
    model.eval()
    device = next(model.parameters()).device
    with torch.inference_mode():
        for start in range(0, len(arrays), PREDICT_BATCH):
            batch = normalise(torch.from_numpy(np.stack(arrays[start:start + PREDICT_BATCH])).to(device))
            for head, logits in model(batch).items():
                probs[head].append(torch.softmax(logits.float(), dim=1).cpu().numpy())
    out = pd.DataFrame(index=range(len(frame)))
    for col in PASSTHROUGH:
        if col in frame.columns:
            out[col] = frame[col].astype("string").to_numpy()
    for head, classes in model.head_classes.items():
        p = np.concatenate(probs[head]) if probs[head] else np.zeros((0, len(classes)))
        for j, cls in enumerate(classes):
            out[prob_column(head, cls)] = p[:, j].astype("float64")
        out[f"{head}_label"] = pd.array(np.asarray(classes, dtype=object)[p.argmax(axis=1)] if len(p) else [],
                                        dtype="string")
    return out


class HouseCnnPyfunc(mlflow.pyfunc.PythonModel):
    """Loads weights + meta artifacts; predict() classifies photos given by path or base64 bytes."""

    def __init__(self) -> None:
        self.model: HouseCNN | None = None
        self.image_size = 0

    def load_context(self, context: Any) -> None:
        with open(context.artifacts[META_ARTIFACT], encoding="utf-8") as fh:
            meta = json.load(fh)
        self.image_size = int(meta["image_size"])
        self.model = load_house_cnn(context.artifacts[WEIGHTS_ARTIFACT], meta, inference_device())

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        if self.model is None:
            raise RuntimeError("house-cnn model not loaded")
        return classify_frame(self.model, self.image_size, pd.DataFrame(model_input))
