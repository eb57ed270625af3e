"""Regional quotas of a program and the removal and fill lists (issue 6 §3, DESIGN §1).

    desil quota --program PBI-JK --national-quota 96800000 --poor-by-region bps-2024 --ranking DIR \
        [--recipients FILE] [--waiting-list FILE] [--ground-checked FILE] [--out DIR]

The rules are models.quota (allocate_quota: largest-remainder rounding, integer quotas summing
exactly to the national quota; redistribute: removal and fill lists in the stated priority order).
The program's desil line and unit (families or people) come from config/programs.yaml
(`config.programs_config()`); the national quota defaults to the configured one.

--poor-by-region:
- `bps-2024`: the BPS March 2024 provincial poor counts (features/reference/bps_provinces.csv,
  column poor_mar2024_thousands, x 1000 people), regions = the 38 provinces (province_code);
- a CSV or Parquet file with columns `region` (BPS code) and `poor` (count, any unit: only the
  shares matter); 2-digit codes mean provinces, 4-digit codes regencies (the ranking's
  province_code or regency_code is used accordingly).
--recipients: CSV/Parquet with family_id and optionally region and people (needed for recipients
  outside the ranking when the unit is people). --waiting-list: family_id, region.
--ground-checked: CSV/Parquet with family_id of families already ground-checked (fill priority 1).

Outputs in DIR: regions.csv/.parquet (quota, current, over, under, removed, filled, final, ...),
removals.csv/.parquet, fills.csv/.parquet, waiting_list_unused.csv, quota.json (totals and checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from features.regions import provinces, regencies
from models.programs import program as program_by_name
from models.quota import QuotaResult, allocate_quota, redistribute
from serving.population_chunks import atomic_write_json
from serving.population_mlflow import log_figure, log_table, use_tracking
from serving.population_transitions import ranking_file

BPS_2024 = "bps-2024"
RANKING_COLUMNS = ["family_id", "province_code", "regency_code", "desil", "people", "exclusion_rule", "welfare"]


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame (codes and ids kept as strings)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p} does not exist")
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    if p.suffix.lower() in (".csv", ".txt"):
        return pd.read_csv(p, dtype={"family_id": "string", "region": "string", "province_code": "string",
                                     "regency_code": "string"})
    raise ValueError(f"{p.name}: unsupported file type {p.suffix!r}; allowed: .csv or .parquet")


def bps_poor_by_province() -> pd.Series:
    """BPS March 2024 poor people per province (thousands x 1000), index province_code."""
    poor = provinces()["poor_mar2024_thousands"].astype(float) * 1000.0
    poor.index = poor.index.astype("string").rename("region")
    return poor.round().astype(np.int64).rename("poor")


def poor_by_region(source: str | Path) -> tuple[pd.Series, str]:
    """(poor count per region, the ranking column that holds the region code) from `source`."""
    if str(source) == BPS_2024:
        return bps_poor_by_province(), "province_code"
    df = read_table(source)
    missing = [c for c in ("region", "poor") if c not in df.columns]
    if missing:
        raise ValueError(f"{source}: lacks column(s) {missing}; a poor-by-region file has columns region, poor "
                         f"(or use '{BPS_2024}')")
    regions = df["region"].astype("string").str.strip()
    lengths = set(regions.str.len().dropna().astype(int))
    if lengths == {2}:
        column, allowed = "province_code", set(provinces().index)
    elif lengths == {4}:
        column, allowed = "regency_code", set(regencies()["regency_code"])
    else:
        raise ValueError(f"{source}: region codes must all be 2-digit provinces or all 4-digit regencies, "
                         f"got lengths {sorted(lengths)}")
    unknown = sorted(set(regions.dropna()) - allowed)
    if unknown:
        raise ValueError(f"{source}: unknown region code(s) {unknown[:5]}; allowed: BPS {column} codes")
    poor = pd.Series(pd.to_numeric(df["poor"], errors="coerce").to_numpy(), index=pd.Index(regions, name="region"),
                     name="poor")
    return poor, column


@dataclass
class QuotaRun:
    """The quota allocation, the redistribution and the totals checked."""

    program: str
    unit: str
    national_quota: int
    quota: pd.Series
    result: QuotaResult
    totals: dict[str, Any]
    run_id: str | None = None


def run_quota(program: str, ranking: str | Path, poor_source: str | Path, national_quota: int | None = None,
              recipients: str | Path | None = None, waiting_list: str | Path | None = None,
              ground_checked: str | Path | None = None, out_dir: str | Path | None = None,
              tracking_uri: str | None = None, log_to_mlflow: bool = True) -> QuotaRun:
    """Allocate `program`'s national quota over regions and redistribute recipients (module docstring)."""
    prog = program_by_name(program)
    quota_total = prog.quota if national_quota is None else int(national_quota)
    if quota_total is None:
        raise ValueError(f"program {prog.name} has no configured national quota; give --national-quota")
    poor, region_column = poor_by_region(poor_source)
    quota = allocate_quota(poor, quota_total)
    if int(quota.sum()) != quota_total:
        raise RuntimeError(f"quotas sum to {int(quota.sum())}, not the national quota {quota_total}")

    rank = pd.read_parquet(ranking_file(ranking), columns=RANKING_COLUMNS)
    rank = rank.rename(columns={region_column: "region"}).drop(
        columns=[c for c in ("province_code", "regency_code") if c != region_column])
    rec = read_table(recipients) if recipients is not None else None
    wl = read_table(waiting_list) if waiting_list is not None else None
    gc = None
    if ground_checked is not None:
        ids = read_table(ground_checked)["family_id"].astype("string")
        gc = pd.Series(True, index=pd.Index(ids.dropna().unique()))
    result = redistribute(rank, quota, prog.quota_unit, recipients=rec, waiting_list=wl, ground_checked=gc,
                          max_desil=prog.max_desil)
    regions = result.regions
    totals = {
        "program": prog.name, "unit": prog.quota_unit, "max_desil": prog.max_desil,
        "national_quota": quota_total, "quota_sum": int(regions["quota"].sum()),
        "regions": len(regions), "region_level": region_column,
        "current": int(regions["current"].sum()), "removed": int(regions["removed"].sum()),
        "filled": int(regions["filled"].sum()), "final": int(regions["final"].sum()),
        "removed_families": len(result.removals), "filled_families": len(result.fills),
        "over_after": int(regions["over_after"].sum()), "under_after": int(regions["under_after"].sum()),
        "waiting_list_unused": len(result.waiting_list_unused),
        "poor_source": str(poor_source),
    }
    totals["quota_sums_exactly"] = totals["quota_sum"] == quota_total
    run = QuotaRun(program=prog.name, unit=prog.quota_unit, national_quota=quota_total, quota=quota,
                   result=result, totals=totals)
    tables = {"regions": regions.reset_index(), "removals": result.removals, "fills": result.fills,
              "waiting_list_unused": result.waiting_list_unused}
    fig = quota_plot(regions, prog.name, prog.quota_unit)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            table.to_csv(out / f"{name}.csv", index=False)
            if name != "waiting_list_unused":
                table.to_parquet(out / f"{name}.parquet", index=False)
        fig.savefig(out / "quota_by_region.png", dpi=110)
        atomic_write_json(out / "quota.json", totals)
    if log_to_mlflow:
        use_tracking(tracking_uri)
        with mlflow.start_run(run_name=f"quota-{prog.name}", tags={"job": "quota", "program": prog.name}) as r:
            mlflow.log_params({k: v for k, v in totals.items() if isinstance(v, str)})
            mlflow.log_metrics({k: float(v) for k, v in totals.items()
                                if isinstance(v, int | float) and not isinstance(v, bool)})
            for name, table in tables.items():
                log_table(table, name, "quota")
            log_figure(fig, "quota_by_region", "quota")
            mlflow.log_dict(totals, "quota/quota.json")
            run.run_id = r.info.run_id
    return run


def quota_plot(regions: pd.DataFrame, program: str, unit: str) -> Figure:
    """Per region: quota (bar) against current and final recipients (markers)."""
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    x = np.arange(len(regions))
    ax.bar(x, regions["quota"], color="#c6dbef", label="quota")
    ax.plot(x, regions["current"], "o", color="#de2d26", markersize=4, label="current")
    ax.plot(x, regions["final"], "x", color="#08519c", markersize=5, label="after redistribution")
    ax.set_xticks(x, [str(r) for r in regions.index], rotation=90, fontsize=6)
    ax.set_ylabel(unit)
    ax.set_title(f"{program}: regional quota vs recipients")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
