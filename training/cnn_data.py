"""Training data of the house CNN: manifest -> decoded images in memory, per-head targets, family split.

Images are decoded once with models.house_cnn's preprocessing (load_image + image_to_uint8) into a
uint8 tensor (N, 3, size, size): 20k photos at 128 px take ~1 GB, and every epoch then reads memory
instead of decoding JPEGs again. Normalisation happens per batch (models.house_cnn.normalise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from features.photo_features import HEAD_CLASSES, HEAD_LABEL_COLUMN, KIND_HEADS
from models.house_cnn import IGNORE, ImageReadError, image_to_uint8, load_image


@dataclass(frozen=True)
class PhotoTensors:
    """Decoded photos and their targets; row i is manifest row i."""

    images: torch.Tensor  # uint8 (N, 3, size, size)
    targets: dict[str, torch.Tensor]  # head -> int64 (N,), IGNORE where absent or not shown
    manifest: pd.DataFrame


def head_targets(manifest: pd.DataFrame) -> dict[str, torch.Tensor]:
    """Class index per photo and head; IGNORE where the label is missing or the photo's kind hides the head."""
    out: dict[str, torch.Tensor] = {}
    for head, classes in HEAD_CLASSES.items():
        col = manifest[HEAD_LABEL_COLUMN[head]]
        if head == "habitable":
            values = col.astype("boolean").map({True: "yes", False: "no"})
        else:
            values = col.astype("string")
        index = {c: i for i, c in enumerate(classes)}
        codes = np.array([index.get(v, IGNORE) if isinstance(v, str) else IGNORE for v in values], dtype=np.int64)
        shown = manifest["kind"].map(lambda k, h=head: h in KIND_HEADS.get(k, ())).to_numpy(bool)
        codes[~shown] = IGNORE
        out[head] = torch.from_numpy(codes)
    return out


def decode_photos(manifest: pd.DataFrame, size: int, progress: bool = True) -> PhotoTensors:
    """Decode every image of a validated manifest (column image_path) to uint8 size x size.

    Raises ImageReadError naming every unreadable file with its family id (no photo is dropped silently).
    """
    from rich.progress import Progress

    images = np.empty((len(manifest), 3, size, size), dtype=np.uint8)
    errors: list[str] = []
    with Progress(disable=not progress) as bar:
        job = bar.add_task(f"decoding {len(manifest)} photos", total=len(manifest))
        for i, (fid, path) in enumerate(zip(manifest["family_id"], manifest["image_path"], strict=True)):
            try:
                images[i] = image_to_uint8(load_image(path), size)
            except ImageReadError as err:
                errors.append(f"family {fid}: {err}")
            bar.advance(job)
    if errors:
        raise ImageReadError(f"{len(errors)} unreadable photo(s):\n  " + "\n  ".join(errors[:50]))
    return PhotoTensors(torch.from_numpy(images), head_targets(manifest), manifest.reset_index(drop=True))


def split_by_family(family_ids: pd.Series, val_share: float, seed: int) -> np.ndarray:
    """Boolean mask of validation rows: a seeded `val_share` of families, all photos of a family together."""
    families = np.sort(pd.unique(family_ids.astype(str)))
    rng = np.random.default_rng([seed, 0xCA1])
    n_val = max(1, round(val_share * len(families))) if len(families) > 1 else 0
    val_families = set(rng.choice(families, size=n_val, replace=False).tolist())
    return family_ids.astype(str).isin(val_families).to_numpy(bool)
