"""House-photo CNN outputs as optional PMT features, and the code <-> photo-class mapping they rest on.

The CNN has one head per label (`wall`, `roof`, `floor`: merged material classes of features.schema;
`habitable`: yes/no). A front photo shows wall and roof (and habitability), a floor photo shows the
floor. `photo_features_from_predictions` turns per-photo probabilities into one row per family with
columns `photo_wall_<class>`, `photo_roof_<class>`, `photo_floor_<class>` and `photo_habitable`
(probabilities in [0, 1]); a family without the photo that shows a head gets NaN in that head's columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.schema import FLOOR_CLASSES, ROOF_CLASSES, WALL_CLASSES

# head -> class names in a fixed order (the order of the network's outputs)
MATERIAL_HEADS: dict[str, tuple[str, ...]] = {
    "wall": tuple(WALL_CLASSES),
    "roof": tuple(ROOF_CLASSES),
    "floor": tuple(FLOOR_CLASSES),
}
HABITABLE_CLASSES: tuple[str, ...] = ("no", "yes")
HEAD_CLASSES: dict[str, tuple[str, ...]] = {**MATERIAL_HEADS, "habitable": HABITABLE_CLASSES}
# which heads a photo kind shows
KIND_HEADS: dict[str, tuple[str, ...]] = {"front": ("wall", "roof", "habitable"), "floor": ("floor",)}
# head -> the families column of the reported material code
HEAD_FIELD: dict[str, str] = {"wall": "wall_material", "roof": "roof_material", "floor": "floor_material"}
# head -> manifest label column
HEAD_LABEL_COLUMN: dict[str, str] = {"wall": "wall_label", "roof": "roof_label", "floor": "floor_label",
                                     "habitable": "habitable"}

_CLASS_TABLES = {"wall": WALL_CLASSES, "roof": ROOF_CLASSES, "floor": FLOOR_CLASSES}
CLASS_OF_CODE: dict[str, dict[int, str]] = {
    head: {code: name for name, codes in table.items() for code in codes} for head, table in _CLASS_TABLES.items()
}

PHOTO_FEATURE_COLUMNS: list[str] = [
    f"photo_{head}_{cls}" for head, classes in MATERIAL_HEADS.items() for cls in classes
] + ["photo_habitable"]


def prob_column(head: str, cls: str) -> str:
    """Name of the per-photo probability column of one class (CNN pyfunc output), e.g. `prob_wall_wood`."""
    return f"prob_{head}_{cls}"


def material_class(head: str, codes: pd.Series) -> pd.Series:
    """Map schema material codes (wall/roof/floor) to merged photo classes; unknown or null -> <NA>."""
    mapping = CLASS_OF_CODE[head]
    return pd.Series(pd.array([mapping.get(int(c)) if pd.notna(c) else None for c in codes], dtype="string"),
                     index=codes.index)


def photo_features_from_predictions(pred: pd.DataFrame) -> pd.DataFrame:
    """Per-family photo features from per-photo CNN probabilities.

    `pred`: one row per photo with `family_id`, `kind` (front|floor) and the probability columns
    `prob_<head>_<class>` of the heads that kind shows (`prob_habitable_yes` for habitability).
    Several photos of one kind for a family are averaged. Returns a DataFrame indexed by family_id
    with exactly PHOTO_FEATURE_COLUMNS (float64, NaN where the family has no photo of that kind).
    """
    missing = [c for c in ("family_id", "kind") if c not in pred.columns]
    if missing:
        raise ValueError(f"photo predictions lack column(s) {missing}; expected family_id, kind, prob_<head>_<class>")
    bad_kind = ~pred["kind"].isin(list(KIND_HEADS))
    if bad_kind.any():
        row = pred.loc[bad_kind].iloc[0]
        raise ValueError(f"family {row['family_id']}: kind={row['kind']!r} is not allowed; kind is 'front' or 'floor'")
    families = pd.Index(pd.unique(pred["family_id"].astype(str)), name="family_id")
    out = pd.DataFrame(np.nan, index=families, columns=PHOTO_FEATURE_COLUMNS, dtype="float64")
    for kind, heads in KIND_HEADS.items():
        rows = pred.loc[pred["kind"] == kind]
        if rows.empty:
            continue
        src, dst = [], []
        for head in heads:
            if head == "habitable":
                src.append(prob_column("habitable", "yes"))
                dst.append("photo_habitable")
            else:
                src += [prob_column(head, c) for c in MATERIAL_HEADS[head]]
                dst += [f"photo_{head}_{c}" for c in MATERIAL_HEADS[head]]
        absent = [c for c in src if c not in rows.columns]
        if absent:
            raise ValueError(f"photo predictions for kind={kind!r} lack probability column(s) {absent}")
        means = rows[src].astype("float64").groupby(rows["family_id"].astype(str)).mean()
        out.loc[means.index, dst] = means.to_numpy()
    return out
