"""Photo uploads for `classify_house`: size/format checks before decoding, then the house-cnn pyfunc.

Checks per photo (index = position in the upload): file bytes <= limits.max_image_bytes (413), a JPEG
or PNG (422), width x height <= limits.max_image_pixels (413, read from the header before any decoding,
so a decompression bomb is refused unopened), each side >= limits.min_image_side (422).
Output per photo: {index, heads: {head: {label, probabilities: {class: p}}}} for the heads the model has.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd
from PIL import Image, UnidentifiedImageError

from config.serving import LimitsConfig
from features.photo_features import HEAD_CLASSES, prob_column
from serving.request_limits import RequestRejected

ALLOWED_FORMATS = ("JPEG", "PNG")


def check_photo(path: Path, index: int, limits: LimitsConfig) -> None:
    """Raise RequestRejected (413/422) naming photo `index` when it breaks a limit or is not an image."""
    size = path.stat().st_size
    if size > limits.max_image_bytes:
        raise RequestRejected(413, f"photo {index}: {size:,} bytes, at most {limits.max_image_bytes:,} accepted")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:  # reads the header only
                fmt, (width, height) = img.format, img.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError):
        raise RequestRejected(422, f"photo {index}: not a readable image (expected a JPEG or PNG file)") from None
    if fmt not in ALLOWED_FORMATS:
        raise RequestRejected(422, f"photo {index}: format {fmt} is not accepted (expected JPEG or PNG)")
    if width * height > limits.max_image_pixels:
        raise RequestRejected(413, f"photo {index}: {width}x{height} = {width * height:,} pixels, at most "
                                   f"{limits.max_image_pixels:,} accepted")
    if min(width, height) < limits.min_image_side:
        raise RequestRejected(422, f"photo {index}: {width}x{height} pixels, each side must be at least "
                                   f"{limits.min_image_side}")


def classify_photos(cnn, paths: list[Path]) -> list[dict[str, Any]]:
    """Run the house-cnn pyfunc on photo files; one entry per photo in upload order."""
    frame = pd.DataFrame({"image_path": [str(p) for p in paths]})
    pred = cnn.predict(frame)
    results = []
    for i in range(len(pred)):
        row = pred.iloc[i]
        heads: dict[str, Any] = {}
        for head, classes in HEAD_CLASSES.items():
            cols = [prob_column(head, c) for c in classes]
            if not all(c in pred.columns for c in cols):
                continue
            heads[head] = {"label": str(row[f"{head}_label"]),
                           "probabilities": {c: float(row[col]) for c, col in zip(classes, cols, strict=True)}}
        results.append({"index": i, "heads": heads})
    return results
