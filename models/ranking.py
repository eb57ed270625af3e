"""Rank raw families: validate, score, apply the program rules, and return one row per input family.

This is the single scoring path behind the registered MLflow model, the BentoML routes and the
population batch job. Rows that fail validation come back with `error` set and no score; a batch
never loses a family.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.validation import identifier_like_mask, validate_population
from models.pmt import SCORE_COLUMNS as PMT_SCORE_COLUMNS
from models.pmt import PMTModel
from models.programs import eligible_column, eligible_programs, exclusion_rule, programs

# PMTModel.score columns after family_id: predicted_log_pcexp, welfare, desil, p_desil_le_4/5, pi_low/high, sd
SCORE_COLUMNS: tuple[str, ...] = tuple(c for c in PMT_SCORE_COLUMNS if c != "family_id")


def output_columns() -> list[str]:
    """The fixed column order of rank_families, whatever the batch holds."""
    return ["family_id", *SCORE_COLUMNS, "exclusion_rule", "programs",
            *[eligible_column(p.name) for p in programs()], "error"]


def problems_by_family(problems: pd.DataFrame) -> pd.Series:
    """One message per family id: its error-level problems joined with ' | '."""
    if problems.empty:
        return pd.Series(dtype="string")
    errors = problems
    if "severity" in problems.columns:
        errors = problems[problems["severity"].fillna("error") == "error"]
    errors = errors.dropna(subset=["family_id"])
    return errors.groupby("family_id", sort=False)["message"].agg(" | ".join).astype("string")


def rank_families(model: PMTModel, families: pd.DataFrame, members: pd.DataFrame,
                  photo_features: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score families with `model` and its stored cut points.

    Returns a frame in the input order of `families` with family_id, the SCORE_COLUMNS (null for
    rejected families), exclusion_rule (null when none applies), programs (';'-joined names),
    one eligible_<program> bool per program, and error (null when the family was scored).
    """
    ids = families["family_id"].astype("string") if "family_id" in families.columns else None
    if ids is None:
        raise ValueError("families have no 'family_id' column")
    result = validate_population(families, members)
    valid_f, valid_m = result.valid_families, result.valid_members
    family_id = ids.reset_index(drop=True)
    n = len(family_id)
    columns: dict[str, object] = {"family_id": family_id.array}
    if len(valid_f):
        # score, exclusion_rule and eligible_programs all keep valid_f's row order (their contracts); each
        # input row takes its family's row (a left join of the input ids on the unique valid ids).
        scored = model.score(valid_f, valid_m, photo_features, floats=(result.family_floats, result.member_floats))
        rule = exclusion_rule(valid_f, valid_m)
        if not np.array_equal(rule.index.to_numpy(dtype=object), scored["family_id"].to_numpy(dtype=object)):
            raise RuntimeError("score and exclusion_rule returned families in different orders")
        eligibility = eligible_programs(scored["desil"].to_numpy(), rule)
        position = rule.index.get_indexer(family_id)  # -1: not scored
        found = position >= 0
        take = np.where(found, position, 0)
        for col in SCORE_COLUMNS:
            values = scored[col].to_numpy()[take]
            columns[col] = (pd.arrays.IntegerArray(np.where(found, values, 0).astype(np.int8), ~found)
                            if col == "desil" else np.where(found, values.astype(np.float64), np.nan))
        for col, source in (("exclusion_rule", rule), ("programs", eligibility["programs"])):
            text = source.to_numpy(dtype=object, na_value=None)[take]
            columns[col] = pd.array(np.where(found, text, None), dtype="string")
        for p in programs():
            flags = eligibility[eligible_column(p.name)].to_numpy(dtype=bool)[take]
            if not found.all():  # True/False, NaN where not scored
                flags = flags.astype(object)
                flags[~found] = np.nan
            columns[eligible_column(p.name)] = flags
    else:
        found = np.zeros(n, dtype=bool)
        for col in SCORE_COLUMNS:
            columns[col] = pd.array([pd.NA] * n, dtype="Int8") if col == "desil" else np.full(n, np.nan)
        for col in ("exclusion_rule", "programs", *(eligible_column(p.name) for p in programs())):
            columns[col] = np.full(n, pd.NA, dtype=object)
    errors = problems_by_family(result.problems)
    error = (family_id.map(errors).astype("string") if len(errors)
             else pd.Series(pd.array([pd.NA] * n, dtype="string")))
    unscored = ~found & error.isna().to_numpy(dtype=bool)
    identifier_like = identifier_like_mask(family_id)
    if unscored.any() or identifier_like.any():
        error = error.mask(unscored, "family was not scored (rejected by validation)")
        error = error.mask(identifier_like, "family_id looks like a NIK or family-card number: pseudonymise "
                                            "it first (`desil pseudonymise`); it was not scored")
    columns["error"] = error.array
    if list(columns) != output_columns():
        raise RuntimeError(f"rank_families built columns {list(columns)}, expected {output_columns()}")
    return pd.DataFrame(columns, copy=False)
