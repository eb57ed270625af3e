"""Per-family explanations: feature-level contributions (log_pcexp units) aggregated to the raw
variables of `features.build.FEATURE_GROUPS` and phrased in words by `features.explanation_text`.

Contract: `contributions_by_raw_variable` keeps each row's total (baseline + sum of variables =
prediction), because every feature column belongs to exactly one raw variable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.build import FEATURE_GROUPS
from features.explanation_text import contribution_text, describe_value

BASELINE = "baseline"


def contributions_by_raw_variable(feature_contributions: pd.DataFrame) -> pd.DataFrame:
    """Sum feature-column contributions (columns = feature columns + 'bias') per raw variable.

    Returns one column per FEATURE_GROUPS key (in its order) plus 'baseline' (the model's bias), same
    index; unknown feature columns are an error (they would be lost silently)."""
    known = {c for cols in FEATURE_GROUPS.values() for c in cols} | {"bias"}
    unknown = [c for c in feature_contributions.columns if c not in known]
    if unknown:
        raise ValueError(f"contribution columns {unknown} belong to no FEATURE_GROUPS entry")
    values = feature_contributions.to_numpy(dtype=np.float64)
    position = {c: i for i, c in enumerate(feature_contributions.columns)}
    out = {}
    for group, cols in FEATURE_GROUPS.items():
        idx = [position[c] for c in cols if c in position]
        out[group] = values[:, idx].sum(axis=1) if idx else np.zeros(len(values))
    out[BASELINE] = values[:, position["bias"]] if "bias" in position else np.zeros(len(values))
    return pd.DataFrame(out, index=feature_contributions.index)


def top_contributions(
    raw_contributions: pd.DataFrame, families: pd.DataFrame, features: pd.DataFrame, top_k: int = 5
) -> list[list[dict[str, object]]]:
    """For each family (rows aligned by position across the three frames): the top_k raw variables by
    absolute contribution, each {variable, value, contribution, text}, largest first."""
    if not (len(raw_contributions) == len(families) == len(features)):
        raise ValueError("raw_contributions, families and features must have the same rows")
    variables = [c for c in raw_contributions.columns if c != BASELINE]
    values = raw_contributions[variables].to_numpy(dtype=np.float64)
    k = min(top_k, len(variables))
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :k]
    result = []
    for row in range(len(values)):
        family = families.iloc[row]
        feature_row = features.iloc[row]
        items = []
        for j in order[row]:
            variable = variables[j]
            contribution = float(values[row, j])
            value = describe_value(variable, family, feature_row)
            items.append({
                "variable": variable,
                "value": value,
                "contribution": contribution,
                "text": contribution_text(variable, value, contribution),
            })
        result.append(items)
    return result
