"""Summary of a synthetic population against the BPS reference table, with tolerance verdicts.

One row per province (families, people, people share vs reference, person-weighted poverty rate vs
reference, share of the national poor), then a `JAVA` row (Java's share of the poor vs 52.49 %) and
an `ID` row (national poverty rate vs 9.03 %, mean family size vs 3.07). Tolerances come from
config/synth.yaml `tolerances`; province rows are checked only for provinces holding at least
`min_province_share` of the reference people (smaller ones are too noisy in small populations).

Reads a population folder in aligned batches of families.parquet and truth.parquet (bounded memory)
or an in-memory data.synth.Population.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from config.synth import TolerancesConfig, synth_config
from data.parquet_io import iter_batches
from features.regions import JAVA_PROVINCES, provinces

BATCH_ROWS = 1_000_000


def _counts_from_frames(province_code: pd.Series, n_members: np.ndarray, poor: np.ndarray, codes: pd.Index) -> np.ndarray:
    """(38, 3) array: families, people, poor people per province."""
    pos = codes.get_indexer(province_code.astype(str).to_numpy())
    if (pos < 0).any():
        bad = sorted(set(province_code[pos < 0].astype(str)))[:5]
        raise ValueError(f"unknown province_code(s) {bad} in families; allowed: the 38 BPS province codes")
    k = len(codes)
    size = n_members.astype(np.float64)
    return np.stack(
        [
            np.bincount(pos, minlength=k).astype(np.float64),
            np.bincount(pos, weights=size, minlength=k),
            np.bincount(pos, weights=size * poor, minlength=k),
        ],
        axis=1,
    )


def _province_counts(source: object, codes: pd.Index) -> np.ndarray:
    if isinstance(source, str | Path):
        folder = Path(source)
        total = np.zeros((len(codes), 3))
        fam_batches = iter_batches(folder / "families.parquet", ["family_id", "province_code"], BATCH_ROWS)
        truth_batches = iter_batches(folder / "truth.parquet", ["family_id", "n_members", "poor"], BATCH_ROWS)
        for fam, truth in zip(fam_batches, truth_batches, strict=True):
            if not np.array_equal(fam["family_id"].to_numpy(), truth["family_id"].to_numpy()):
                raise ValueError(f"{folder}: families.parquet and truth.parquet are not in the same family order")
            total += _counts_from_frames(
                fam["province_code"], truth["n_members"].to_numpy(), truth["poor"].to_numpy(dtype=bool), codes
            )
        return total
    families = getattr(source, "families", None)
    truth = getattr(source, "truth", None)
    if families is None or truth is None:
        raise TypeError(f"population_summary takes a folder path or a data.synth.Population, got {type(source)!r}")
    merged = families[["family_id", "province_code"]].merge(
        truth[["family_id", "n_members", "poor"]], on="family_id", how="inner", validate="one_to_one"
    )
    if len(merged) != len(families):
        raise ValueError("truth does not hold every family of the population")
    return _counts_from_frames(
        merged["province_code"], merged["n_members"].to_numpy(), merged["poor"].to_numpy(dtype=bool), codes
    )


def population_summary(source: str | Path | object, tolerances: TolerancesConfig | None = None) -> pd.DataFrame:
    """Per-province and national comparison with the reference table.

    Columns: code, name, families, people, mean_family_size, people_share_pct, ref_people_share_pct,
    poverty_rate_pct, ref_poverty_rate_pct, poor_share_pct, ref_poor_share_pct, checked (bool: row
    has a verdict), ok (bool; True when not checked), verdict (text naming each failed check).
    """
    tol = tolerances or synth_config().tolerances
    ref = provinces()
    codes = pd.Index(ref.index)
    counts = _province_counts(source, codes)
    fam, people, poor = counts[:, 0], counts[:, 1], counts[:, 2]
    ref_people = ref["survey_population_mar2024_thousands"].to_numpy(dtype=np.float64)
    ref_poor = ref["poor_mar2024_thousands"].to_numpy(dtype=np.float64)
    ref_rate = ref["poverty_rate_mar2024_pct"].to_numpy(dtype=np.float64)

    with np.errstate(divide="ignore", invalid="ignore"):
        rows = pd.DataFrame(
            {
                "code": codes.astype(str),
                "name": ref["province_name"].to_numpy(),
                "families": fam.astype(np.int64),
                "people": people.astype(np.int64),
                "mean_family_size": people / fam,
                "people_share_pct": 100 * people / people.sum(),
                "ref_people_share_pct": 100 * ref_people / ref_people.sum(),
                "poverty_rate_pct": 100 * poor / people,
                "ref_poverty_rate_pct": ref_rate,
                "poor_share_pct": 100 * poor / poor.sum(),
                "ref_poor_share_pct": 100 * ref_poor / ref_poor.sum(),
            }
        )
    checked = rows["ref_people_share_pct"] >= 100 * tol.min_province_share
    share_bad = (rows["people_share_pct"] / rows["ref_people_share_pct"] - 1).abs() > tol.province_people_share_rel
    rate_bad = (rows["poverty_rate_pct"] - rows["ref_poverty_rate_pct"]).abs() > tol.province_poverty_pp
    share_bad = share_bad | rows["people_share_pct"].isna()
    rate_bad = rate_bad | rows["poverty_rate_pct"].isna()
    verdicts = []
    for is_checked, sb, rb in zip(checked, share_bad, rate_bad, strict=True):
        if not is_checked:
            verdicts.append(f"not checked (< {100 * tol.min_province_share:g}% of people)")
            continue
        fails = []
        if sb:
            fails.append(f"people share off by > {100 * tol.province_people_share_rel:g}% relative")
        if rb:
            fails.append(f"poverty rate off by > {tol.province_poverty_pp:g} pp")
        verdicts.append("FAIL: " + "; ".join(fails) if fails else "ok")
    rows["checked"] = checked.to_numpy()
    rows["ok"] = ~(checked & (share_bad | rate_bad)).to_numpy()
    rows["verdict"] = verdicts

    java = rows["code"].isin(JAVA_PROVINCES).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        java_share = 100 * poor[java].sum() / poor.sum()
    ref_java_share = 100 * ref_poor[java].sum() / ref_poor.sum()
    java_ok = bool(abs(java_share - ref_java_share) <= tol.java_poor_share_pp)
    nat_rate = 100 * poor.sum() / people.sum()
    ref_nat_rate = 100 * (ref_poor.sum() / ref_people.sum())
    mean_size = people.sum() / fam.sum()
    rate_ok = bool(abs(nat_rate - ref_nat_rate) <= tol.national_poverty_pp)
    size_ok = bool(abs(mean_size - tol.reference_mean_family_size) <= tol.mean_family_size)
    nat_fails = []
    if not rate_ok:
        nat_fails.append(f"poverty rate off by > {tol.national_poverty_pp:g} pp")
    if not size_ok:
        nat_fails.append(f"mean family size off by > {tol.mean_family_size:g} (reference {tol.reference_mean_family_size:g})")
    extra = pd.DataFrame(
        [
            {
                "code": "JAVA", "name": "Java (31-36)", "families": int(fam[java].sum()), "people": int(people[java].sum()),
                "mean_family_size": people[java].sum() / fam[java].sum(),
                "people_share_pct": 100 * people[java].sum() / people.sum(),
                "ref_people_share_pct": 100 * ref_people[java].sum() / ref_people.sum(),
                "poverty_rate_pct": 100 * poor[java].sum() / people[java].sum(),
                "ref_poverty_rate_pct": 100 * ref_poor[java].sum() / ref_people[java].sum(),
                "poor_share_pct": java_share, "ref_poor_share_pct": ref_java_share, "checked": True, "ok": java_ok,
                "verdict": "ok" if java_ok else f"FAIL: share of poor off by > {tol.java_poor_share_pp:g} pp",
            },
            {
                "code": "ID", "name": "Indonesia", "families": int(fam.sum()), "people": int(people.sum()),
                "mean_family_size": mean_size, "people_share_pct": 100.0, "ref_people_share_pct": 100.0,
                "poverty_rate_pct": nat_rate, "ref_poverty_rate_pct": ref_nat_rate,
                "poor_share_pct": 100.0, "ref_poor_share_pct": 100.0, "checked": True, "ok": rate_ok and size_ok,
                "verdict": "FAIL: " + "; ".join(nat_fails) if nat_fails else "ok",
            },
        ]
    )
    return pd.concat([rows, extra], ignore_index=True)


def summary_passes(summary: pd.DataFrame) -> bool:
    """True when every checked row of a population_summary is within tolerance."""
    return bool(summary["ok"].all())
