"""Photo-vs-survey contradiction flags: the house CNN is confident that a material differs from the answer.

For each family with photo features and each material field (wall, roof, floor), the photo class is
the most probable class of that head; a flag is raised when its probability is >= threshold and it
differs from the merged class of the reported code. A flag names the field, the reported code and its
label, the class the photo shows and the probability. Families without the photo of a head, or with a
null reported code, get no flag for that field.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.photo_features import CLASS_OF_CODE, HEAD_FIELD, MATERIAL_HEADS, material_class
from features.schema import category_label

FLAG_COLUMNS = ("family_id", "field", "reported_code", "reported_label", "reported_class", "photo_class",
                "probability", "message")


def _by_family(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    if "family_id" in frame.columns:
        frame = frame.set_index("family_id")
    elif frame.index.name != "family_id":
        raise ValueError(f"{what} needs a family_id column or index")
    frame.index = frame.index.astype(str)
    return frame


def contradiction_flags(reported_families: pd.DataFrame, photo_probs: pd.DataFrame,
                        threshold: float = 0.8) -> pd.DataFrame:
    """Flags where the photo model is confident (>= threshold) the material class differs from the answer.

    `reported_families`: family_id + wall_material, roof_material, floor_material (schema codes).
    `photo_probs`: per-family photo features (features.photo_features.photo_features_from_predictions:
    family_id index or column, photo_<head>_<class> probabilities, NaN without a photo).
    Returns one row per flag with FLAG_COLUMNS, ordered by family_id then field.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold={threshold} must be in (0, 1)")
    fam = _by_family(reported_families, "reported_families")
    probs = _by_family(photo_probs, "photo_probs")
    common = probs.index.intersection(fam.index)
    parts = []
    for head, classes in MATERIAL_HEADS.items():
        field = HEAD_FIELD[head]
        cols = [f"photo_{head}_{c}" for c in classes]
        if field not in fam.columns or not set(cols) <= set(probs.columns):
            continue
        p = probs.loc[common, cols].to_numpy(dtype="float64")
        has_photo = ~np.isnan(p).any(axis=1)
        best = np.where(has_photo, np.nan_to_num(p, nan=-1.0).argmax(axis=1), 0)
        prob = np.where(has_photo, np.nan_to_num(p, nan=-1.0).max(axis=1), np.nan)
        photo_class = np.asarray(classes, dtype=object)[best]
        codes = fam.loc[common, field]
        reported_class = material_class(head, codes).to_numpy(dtype=object, na_value=None)
        flagged = has_photo & (prob >= threshold) & np.array([rc is not None for rc in reported_class]) \
            & (photo_class != reported_class)
        if not flagged.any():
            continue
        idx = np.flatnonzero(flagged)
        sel_codes = codes.iloc[idx].astype(int).to_numpy()
        labels = [category_label("families", field, int(c)) for c in sel_codes]
        part = pd.DataFrame({
            "family_id": common[idx], "field": field, "reported_code": sel_codes, "reported_label": labels,
            "reported_class": reported_class[idx], "photo_class": photo_class[idx], "probability": prob[idx],
        })
        part["message"] = [
            f"{field}: answer {c} ({lab}, class {rc}) but the photo shows {pc} (p={pr:.2f})"
            for c, lab, rc, pc, pr in zip(part["reported_code"], part["reported_label"], part["reported_class"],
                                          part["photo_class"], part["probability"], strict=True)
        ]
        parts.append(part)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "probability" else "object") for c in FLAG_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["family_id", "field"], kind="stable").reset_index(drop=True)[list(FLAG_COLUMNS)]


def flag_quality(flags: pd.DataFrame, reported_families: pd.DataFrame, truth: pd.DataFrame,
                 photo_families: pd.Index | None = None) -> dict[str, float]:
    """Precision and recall of flags against the truth, among families with photos.

    Field level: a (family, field) is a true contradiction when the reported code's class differs from
    the true code's class (true_<field> in truth). Family level: against truth `misreported_housing`
    when present (a misreport may stay inside one visual class, which no photo can see).
    """
    fam = _by_family(reported_families, "reported_families")
    tru = _by_family(truth, "truth")
    families = fam.index.intersection(tru.index)
    if photo_families is not None:
        families = families.intersection(pd.Index(photo_families).astype(str))
    flagged_pairs = set(zip(flags["family_id"].astype(str), flags["field"], strict=True))
    tp = fp = fn = 0
    for head, field in HEAD_FIELD.items():
        rep = material_class(head, fam.loc[families, field])
        true = material_class(head, tru.loc[families, f"true_{field}"])
        actual = (rep != true).fillna(False).to_numpy(bool)
        pred = np.array([(f, field) in flagged_pairs for f in families], dtype=bool)
        tp += int((actual & pred).sum())
        fp += int((~actual & pred).sum())
        fn += int((actual & ~pred).sum())
    out = {"flag_field_precision": tp / max(tp + fp, 1), "flag_field_recall": tp / max(tp + fn, 1),
           "flag_field_true": float(tp + fn), "flag_count": float(len(flags)), "flag_families": float(len(families))}
    if "misreported_housing" in tru.columns:
        actual = tru.loc[families, "misreported_housing"].astype(bool).to_numpy()
        pred = families.isin(flags["family_id"].astype(str)).astype(bool)
        out["flag_family_precision"] = float((actual & pred).sum() / max(pred.sum(), 1))
        out["flag_family_recall"] = float((actual & pred).sum() / max(actual.sum(), 1))
    return out


__all__ = ["CLASS_OF_CODE", "FLAG_COLUMNS", "contradiction_flags", "flag_quality"]
