"""Evaluation of a PMT model: prediction accuracy on held-out survey families and targeting accuracy
on the whole population against the generator's truth (or any file of true desil).

Metric names are stable (reviewers compare them across versions in MLflow):
- `holdout_r2`, `holdout_rmse`, `holdout_spearman`: survey-weighted, on log per-capita expenditure
  of survey families not used in fitting.
- `population_spearman`, `desil_exact_accuracy`, `desil_within1_accuracy`: predicted vs true welfare
  and desil over every family.
- `{inclusion,exclusion}_error_d{4,5}_{family,person}`: DESIGN §1 definitions (models.targeting).
- `gap_exclusion_error_d4_person_{urban_minus_rural,female_minus_male_head,disability_minus_none}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from models.targeting import decile_accuracy, targeting_metrics, targeting_table

PROGRAM_LINES: tuple[int, ...] = (4, 5)


def weighted_r2(y: np.ndarray, pred: np.ndarray, weight: np.ndarray) -> float:
    """Survey-weighted coefficient of determination."""
    mean = np.average(y, weights=weight)
    ss_res = np.sum(weight * (y - pred) ** 2)
    ss_tot = np.sum(weight * (y - mean) ** 2)
    return float(1.0 - ss_res / ss_tot)


def weighted_rmse(y: np.ndarray, pred: np.ndarray, weight: np.ndarray) -> float:
    return float(np.sqrt(np.average((y - pred) ** 2, weights=weight)))


def holdout_metrics(y: np.ndarray, pred: np.ndarray, weight: np.ndarray) -> dict[str, float]:
    """Accuracy of predicted log per-capita expenditure on held-out survey families."""
    return {
        "holdout_r2": weighted_r2(y, pred, weight),
        "holdout_rmse": weighted_rmse(y, pred, weight),
        "holdout_spearman": float(spearmanr(y, pred).statistic),
        "holdout_families": float(len(y)),
    }


@dataclass(frozen=True)
class PopulationEvaluation:
    """Population-level evaluation: flat metrics plus the tables that plots and reviewers read."""

    metrics: dict[str, float]
    by_province: pd.DataFrame
    by_group: pd.DataFrame
    confusion: pd.DataFrame  # 10x10 people counts, rows true desil, columns predicted desil


def household_groups(families: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Per family (index family_id): urban, female_head, has_disability (bool) for gap metrics."""
    heads = members.loc[members["relationship"] == 1, ["family_id", "sex"]].drop_duplicates("family_id")
    female = heads.set_index("family_id")["sex"].eq(2)
    disability = members.groupby("family_id", sort=False)["disability"].any()
    out = pd.DataFrame(index=pd.Index(families["family_id"], name="family_id"))
    out["urban"] = families["urban"].to_numpy(dtype=bool)
    out["female_head"] = female.reindex(out.index).fillna(False).astype(bool)
    out["has_disability"] = disability.reindex(out.index).fillna(False).astype(bool)
    return out


def evaluate_population(scored: pd.DataFrame, truth: pd.DataFrame, families: pd.DataFrame,
                        members: pd.DataFrame) -> PopulationEvaluation:
    """Compare predicted desil/welfare (scored: family_id, welfare, desil) with truth
    (family_id, true_welfare, true_desil, n_members) over every family."""
    df = scored[["family_id", "welfare", "desil"]].merge(
        truth[["family_id", "true_welfare", "true_desil", "n_members"]], on="family_id", how="inner",
        validate="one_to_one")
    if len(df) != len(scored):
        raise ValueError(f"truth is missing {len(scored) - len(df)} scored families")
    true_d = df["true_desil"].to_numpy(dtype=np.int64)
    pred_d = df["desil"].to_numpy(dtype=np.int64)
    people = df["n_members"].to_numpy(dtype=np.float64)

    metrics: dict[str, float] = {}
    metrics["population_spearman"] = float(spearmanr(df["true_welfare"], df["welfare"]).statistic)
    acc = decile_accuracy(true_d, pred_d)
    metrics["desil_exact_accuracy"] = float(acc["exact"])
    metrics["desil_within1_accuracy"] = float(acc["within1"])
    metrics.update({k: float(v) for k, v in targeting_metrics(true_d, pred_d, people).items()})
    metrics["population_families"] = float(len(df))
    metrics["population_people"] = float(people.sum())

    fam = families.set_index("family_id").loc[df["family_id"]]
    by_province = targeting_table(true_d, pred_d, people, group=pd.Series(fam["province_code"].to_numpy()),
                                  thresholds=PROGRAM_LINES)

    groups = household_groups(families, members).loc[df["family_id"]]
    rows = []
    for name, mask in {
        "urban": groups["urban"].to_numpy(), "rural": ~groups["urban"].to_numpy(),
        "female_head": groups["female_head"].to_numpy(), "male_head": ~groups["female_head"].to_numpy(),
        "disability": groups["has_disability"].to_numpy(), "no_disability": ~groups["has_disability"].to_numpy(),
    }.items():
        m = targeting_metrics(true_d[mask], pred_d[mask], people[mask])
        rows.append({"group": name, "families": int(mask.sum()), **m})
    by_group = pd.DataFrame(rows).set_index("group")
    key = "exclusion_error_d4_person"
    metrics["gap_exclusion_error_d4_person_urban_minus_rural"] = float(
        by_group.loc["urban", key] - by_group.loc["rural", key])
    metrics["gap_exclusion_error_d4_person_female_minus_male_head"] = float(
        by_group.loc["female_head", key] - by_group.loc["male_head", key])
    metrics["gap_exclusion_error_d4_person_disability_minus_none"] = float(
        by_group.loc["disability", key] - by_group.loc["no_disability", key])

    confusion = pd.crosstab(pd.Series(true_d, name="true_desil"), pd.Series(pred_d, name="pred_desil"),
                            values=people, aggfunc="sum").reindex(index=range(1, 11), columns=range(1, 11))
    return PopulationEvaluation(metrics=metrics, by_province=by_province, by_group=by_group,
                                confusion=confusion.fillna(0.0))
