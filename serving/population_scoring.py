"""Score one chunk of a population with models.ranking.rank_families, and finish scored rows
against national cut points. Shared by the single-machine job (serving/population.py) and the Spark
job (serving/spark_ranking.py): one implementation of each step.

Scored rows (`score_chunk`, SCORED_COLUMNS): one row per families row of the chunk
(source='families'), plus one row per family id that appears only in members (source='members',
orphan members) and one per members row without a family id. `error` is null exactly for the
families that were scored; `people` is the number of members rows of the family in the chunk.

Finished rows (`finish_ranking`): the scored families (error null) with the national desil,
P(desil <= 4/5) recomputed under the model's predictive normal(welfare, sd) against the NATIONAL cut
points (models.uncertainty.prob_below), and program eligibility (models.programs.eligible_programs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from features.validation import WITHHELD, identifier_like_mask, string_in_set
from models.cut_points import assign_desil
from models.pmt import PMTModel
from models.programs import eligible_column, eligible_programs, programs
from models.ranking import rank_families
from models.uncertainty import prob_below

SCORED_SCHEMA = pa.schema([
    ("source", pa.string()),
    ("family_id", pa.string()),
    ("province_code", pa.string()),
    ("regency_code", pa.string()),
    ("people", pa.int32()),
    ("predicted_log_pcexp", pa.float64()),
    ("welfare", pa.float64()),
    ("sd", pa.float64()),
    ("pi_low", pa.float64()),
    ("pi_high", pa.float64()),
    ("exclusion_rule", pa.string()),
    ("error", pa.string()),
])
SCORED_COLUMNS: tuple[str, ...] = tuple(SCORED_SCHEMA.names)
RANKING_VALUE_COLUMNS: tuple[str, ...] = (
    "family_id", "province_code", "regency_code", "people", "predicted_log_pcexp", "welfare", "desil",
    "p_desil_le_4", "p_desil_le_5", "pi_low", "pi_high", "exclusion_rule", "programs",
)


def ranking_columns() -> list[str]:
    """Columns of ranking.parquet: RANKING_VALUE_COLUMNS then one eligible_<program> bool per program."""
    return list(RANKING_VALUE_COLUMNS) + [eligible_column(p.name) for p in programs()]


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string")


def score_chunk(model: PMTModel, families: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Scored rows of one aligned chunk (module docstring); SCORED_COLUMNS in order, input row order."""
    if len(families):
        ranked = rank_families(model, families, members)
    else:  # a chunk or Spark group holding only members (orphans)
        ranked = pd.DataFrame({c: pd.Series(dtype="float64") for c in ("predicted_log_pcexp", "welfare", "sd",
                                                                        "pi_low", "pi_high")})
        ranked["exclusion_rule"] = pd.Series(dtype="string")
        ranked["error"] = pd.Series(dtype="string")
    fam_ids = _text(families["family_id"]).reset_index(drop=True)
    mem_ids = _text(members["family_id"]) if "family_id" in members.columns else pd.Series(dtype="string")
    sizes = mem_ids.dropna().value_counts()
    out = pd.DataFrame({
        "source": "families",
        "family_id": fam_ids,
        "province_code": _text(families["province_code"]).reset_index(drop=True)
        if "province_code" in families else pd.Series(pd.NA, index=fam_ids.index, dtype="string"),
        "regency_code": _text(families["regency_code"]).reset_index(drop=True)
        if "regency_code" in families else pd.Series(pd.NA, index=fam_ids.index, dtype="string"),
        "people": fam_ids.map(sizes).fillna(0).astype(np.int32),
    })
    for col in ("predicted_log_pcexp", "welfare", "sd", "pi_low", "pi_high"):
        out[col] = pd.to_numeric(ranked[col], errors="coerce").astype(np.float64).to_numpy() \
            if col in ranked else np.nan
    out["exclusion_rule"] = _text(ranked["exclusion_rule"]).to_numpy()
    out["error"] = _text(ranked["error"]).to_numpy()

    # Members whose family is not among the families rows, and members without a family id.
    # (pyarrow membership: pandas' isin on arrow strings loops in Python)
    orphan = sizes[~string_in_set(pd.Series(sizes.index, dtype="string"), fam_ids.dropna())]
    extra = [pd.DataFrame({
        "source": "members", "family_id": pd.array(orphan.index, dtype="string"),
        "people": orphan.to_numpy(dtype=np.int32),
        "error": pd.array([f"{n} members row(s) of family {f!r}, which is not in the families table"
                           for f, n in orphan.items()], dtype="string"),
    })]
    n_null = int(mem_ids.isna().sum())
    if n_null:
        extra.append(pd.DataFrame({"source": "members", "family_id": pd.array([pd.NA] * n_null, dtype="string"),
                                   "people": np.ones(n_null, dtype=np.int32),
                                   "error": pd.array(["members row without a family_id"] * n_null, dtype="string")}))
    rows = pd.concat([out, *extra], ignore_index=True) if len(orphan) or n_null else out
    return rows.reindex(columns=list(SCORED_COLUMNS))


def scored_table(rows: pd.DataFrame) -> pa.Table:
    """Arrow table with SCORED_SCHEMA (the part-file schema)."""
    return pa.Table.from_pandas(rows.reindex(columns=list(SCORED_COLUMNS)), schema=SCORED_SCHEMA,
                                preserve_index=False)


def finish_ranking(scored: pd.DataFrame, cut_points: np.ndarray) -> pd.DataFrame:
    """Final ranking rows (ranking_columns()) of the scored families (error null) in `scored`.

    scored: SCORED_COLUMNS rows; cut_points: the 9 national welfare cut points.
    """
    ok = scored["error"].isna() & scored["source"].eq("families")
    s = scored.loc[ok.to_numpy()].reset_index(drop=True)
    welfare = s["welfare"].to_numpy(dtype=np.float64)
    sd = s["sd"].to_numpy(dtype=np.float64)
    desil = assign_desil(welfare, cut_points)
    rule = pd.Series(s["exclusion_rule"].astype("string").to_numpy(), index=pd.Index(s["family_id"]),
                     dtype="string")
    programs_frame = eligible_programs(desil, rule).reset_index(drop=True)
    out = pd.DataFrame({
        "family_id": s["family_id"].astype("string"),
        "province_code": s["province_code"].astype("string"),
        "regency_code": s["regency_code"].astype("string"),
        "people": s["people"].astype(np.int32),
        "predicted_log_pcexp": s["predicted_log_pcexp"].astype(np.float64),
        "welfare": welfare,
        "desil": desil.astype(np.int8),
        "p_desil_le_4": prob_below(welfare, sd, cut_points[3]),
        "p_desil_le_5": prob_below(welfare, sd, cut_points[4]),
        "pi_low": s["pi_low"].astype(np.float64),
        "pi_high": s["pi_high"].astype(np.float64),
        "exclusion_rule": s["exclusion_rule"].astype("string"),
    })
    return pd.concat([out, programs_frame], axis=1).reindex(columns=ranking_columns())


def rejected_rows(scored: pd.DataFrame) -> pd.DataFrame:
    """rejects rows (source, family_id, province_code, people, errors) of the unscored rows in `scored`."""
    bad = scored["error"].notna().to_numpy()
    r = scored.loc[bad, ["source", "family_id", "province_code", "people", "error"]].copy()
    # an id shaped like a NIK/family-card number is never written to disk in clear
    ids = r["family_id"].astype("string")
    r["family_id"] = ids.mask(identifier_like_mask(ids), WITHHELD)
    return r.rename(columns={"error": "errors"}).astype(
        {"source": "string", "family_id": "string", "province_code": "string", "people": np.int32,
         "errors": "string"}).reset_index(drop=True)
