"""Period over period (issue 6 §2): compare two national rankings written by `desil rank-population`.

    desil transitions --previous RANKING --current RANKING [--out DIR]

RANKING is a ranking folder (holding ranking.parquet) or the ranking.parquet file itself. The
comparison itself is models.transitions (transition_matrix, program_flows, flow_summary); this job
reads the files, writes the tables and plots, checks that the totals reconcile, and logs to MLflow.

Outputs in DIR:
- transition_families.csv / transition_people.csv: 10x10 matrices (rows previous desil, columns
  current desil) over families in both rankings;
- flows.parquet: one row per family entering or leaving a program (program, direction, reason, ...);
- flow_summary.csv/.parquet: per province and program: eligible before/after, entering and leaving by
  reason (desil_moved, exclusion_rule, new_family, family_gone), people, graduations;
- national_flows.csv: the same summed over provinces;
- desil_changes_by_province.csv: families and people in both rankings per (current province,
  change down/same/up);
- reconciliation.json; transition_matrix.png; program_flows.png.
Memory: the two rankings' five key columns in memory (about 60 bytes per family and period).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from models.programs import programs
from models.transitions import FLOW_REASONS, TransitionMatrix, flow_summary, program_flows, transition_matrix
from serving.population_chunks import atomic_write_json
from serving.population_mlflow import log_figure, log_table, use_tracking

RANKING_FILE = "ranking.parquet"
KEY_COLUMNS = ["family_id", "province_code", "desil", "people", "exclusion_rule"]


def ranking_file(path: str | Path) -> Path:
    """The ranking.parquet of a ranking folder, or the file itself."""
    p = Path(path)
    f = p / RANKING_FILE if p.is_dir() else p
    if not f.exists():
        raise FileNotFoundError(f"{f} does not exist: give a folder written by `desil rank-population` "
                                f"or its {RANKING_FILE}")
    return f


def read_ranking(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The key columns of a ranking (KEY_COLUMNS unless `columns`), read from Parquet."""
    return pd.read_parquet(ranking_file(path), columns=columns or KEY_COLUMNS)


@dataclass
class TransitionsResult:
    """Tables of a comparison (module docstring) and the reconciliation checks."""

    matrix: TransitionMatrix
    flows: pd.DataFrame
    summary: pd.DataFrame
    national: pd.DataFrame
    changes: pd.DataFrame
    reconciliation: dict[str, Any]
    run_id: str | None = None


def _reconcile(tm: TransitionMatrix, summary: pd.DataFrame) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "previous_families": tm.previous_families, "current_families": tm.current_families,
        "in_both": tm.in_both, "new_families": tm.new_families, "gone_families": tm.gone_families,
        "previous_people": tm.previous_people, "current_people": tm.current_people,
        "new_people": tm.new_people, "gone_people": tm.gone_people,
        "matrix_families": int(tm.families.to_numpy().sum()),
        "matrix_people": int(tm.people.to_numpy().sum()),
    }
    checks = {
        "families_previous": tm.in_both + tm.gone_families == tm.previous_families,
        "families_current": int(tm.families.to_numpy().sum()) + tm.new_families == tm.current_families,
        "people_current": int(tm.people.to_numpy().sum()) + tm.new_people == tm.current_people,
    }
    nat = summary.groupby("program")[["eligible_previous", "eligible_current", "entering", "leaving",
                                      "eligible_people_previous", "eligible_people_current",
                                      "people_entering", "people_leaving"]].sum()
    for prog, row in nat.iterrows():
        checks[f"{prog}_families"] = bool(row["eligible_previous"] + row["entering"] - row["leaving"]
                                          == row["eligible_current"])
        checks[f"{prog}_people"] = bool(row["eligible_people_previous"] + row["people_entering"]
                                        - row["people_leaving"] == row["eligible_people_current"])
    rec["checks"] = checks
    rec["reconciles"] = all(checks.values())
    if not rec["reconciles"]:
        raise RuntimeError(f"transition totals do not reconcile: {rec}")
    return rec


def desil_changes(prev: pd.DataFrame, curr: pd.DataFrame) -> pd.DataFrame:
    """Families and people (current size) in both rankings per (current province, change)."""
    both = prev[["family_id", "desil"]].merge(curr[["family_id", "desil", "people", "province_code"]],
                                              on="family_id", suffixes=("_previous", "_current"))
    step = np.sign(both["desil_current"].astype(int) - both["desil_previous"].astype(int))
    both["change"] = pd.Categorical(np.select([step < 0, step > 0], ["down", "up"], "same"),
                                    categories=["down", "same", "up"])
    both["families"] = 1
    out = both.groupby(["province_code", "change"], observed=False)[["families", "people"]].sum()
    return out.astype(np.int64).reset_index()


def transition_plot(tm: TransitionMatrix) -> Figure:
    """Heat map of the family transition matrix, each row as shares of its previous desil."""
    counts = tm.families.to_numpy(dtype=float)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(6.5, 5.5))
    ax = fig.add_subplot()
    im = ax.imshow(share, cmap=colormaps["Blues"], vmin=0, vmax=1)
    for i in range(share.shape[0]):
        for j in range(share.shape[1]):
            if counts[i, j]:
                ax.text(j, i, f"{share[i, j]:.0%}", ha="center", va="center", fontsize=6,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(10), [str(d) for d in range(1, 11)])
    ax.set_yticks(range(10), [str(d) for d in range(1, 11)])
    ax.set_xlabel("current desil")
    ax.set_ylabel("previous desil")
    ax.set_title(f"Desil transitions ({tm.in_both:,} families in both rankings)")
    fig.colorbar(im, ax=ax, label="share of the previous desil's families")
    fig.tight_layout()
    return fig


def flows_plot(national: pd.DataFrame) -> Figure:
    """Families entering (up) and leaving (down) each program, stacked by reason."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    x = np.arange(len(national))
    colours = dict(zip(FLOW_REASONS, colormaps["tab10"].colors, strict=False))
    up = np.zeros(len(national))
    down = np.zeros(len(national))
    for reason in FLOW_REASONS:
        col_in, col_out = f"entering_{reason}", f"leaving_{reason}"
        if col_in in national:
            v = national[col_in].to_numpy(dtype=float)
            ax.bar(x, v, bottom=up, color=colours[reason], label=reason.replace("_", " "))
            up += v
        if col_out in national:
            v = national[col_out].to_numpy(dtype=float)
            ax.bar(x, -v, bottom=-down, color=colours[reason], hatch="//",
                   label=None if col_in in national else reason.replace("_", " "))
            down += v
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, national["program"].tolist())
    ax.set_ylabel("families entering (+) / leaving (-, hatched)")
    ax.set_title("Program flows between the two rankings")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def compare_rankings(previous: pd.DataFrame, current: pd.DataFrame) -> TransitionsResult:
    """All tables of the comparison of two ranking frames (KEY_COLUMNS), totals reconciled."""
    tm = transition_matrix(previous, current)
    flows = pd.concat([program_flows(previous, current, p).assign(program=p.name) for p in programs()],
                      ignore_index=True)
    flows.insert(0, "program", flows.pop("program").astype("string"))
    summary = flow_summary(previous, current)
    value_cols = [c for c in summary.columns if c not in ("province_code", "program")]
    order = {p.name: i for i, p in enumerate(programs())}
    national = summary.groupby("program")[value_cols].sum().reset_index()
    national = national.sort_values("program", key=lambda s: s.map(order)).reset_index(drop=True)
    rec = _reconcile(tm, summary)
    return TransitionsResult(matrix=tm, flows=flows, summary=summary, national=national,
                             changes=desil_changes(previous, current), reconciliation=rec)


def run_transitions(previous: str | Path, current: str | Path, out_dir: str | Path,
                    tracking_uri: str | None = None, log_to_mlflow: bool = True) -> TransitionsResult:
    """Compare two rankings, write the outputs to `out_dir` (module docstring), log to MLflow."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prev_file, curr_file = ranking_file(previous), ranking_file(current)
    result = compare_rankings(read_ranking(prev_file), read_ranking(curr_file))
    result.matrix.families.to_csv(out / "transition_families.csv")
    result.matrix.people.to_csv(out / "transition_people.csv")
    result.flows.to_parquet(out / "flows.parquet", index=False)
    for name, table in (("flow_summary", result.summary), ("national_flows", result.national),
                        ("desil_changes_by_province", result.changes)):
        table.to_csv(out / f"{name}.csv", index=False)
        table.to_parquet(out / f"{name}.parquet", index=False)
    figs = {"transition_matrix": transition_plot(result.matrix), "program_flows": flows_plot(result.national)}
    for name, fig in figs.items():
        fig.savefig(out / f"{name}.png", dpi=110)
    atomic_write_json(out / "reconciliation.json", {**result.reconciliation, "previous": str(prev_file),
                                                    "current": str(curr_file)})
    if log_to_mlflow:
        use_tracking(tracking_uri)
        with mlflow.start_run(run_name="transitions", tags={"job": "transitions"}) as run:
            mlflow.log_params({"previous": str(prev_file), "current": str(curr_file)})
            rec = result.reconciliation
            mlflow.log_metrics({k: float(v) for k, v in rec.items() if isinstance(v, int | float)
                                and not isinstance(v, bool)})
            mlflow.log_metrics({"changed_desil_families": float(rec["in_both"] - np.trace(result.matrix.families))})
            for _, row in result.national.iterrows():
                mlflow.log_metrics({f"{row['program']}_{k}": float(row[k])
                                    for k in ("entering", "leaving", "graduations")})
            log_table(result.matrix.families.reset_index(), "transition_families", "transitions")
            log_table(result.matrix.people.reset_index(), "transition_people", "transitions")
            for name, table in (("flow_summary", result.summary), ("national_flows", result.national),
                                ("desil_changes_by_province", result.changes)):
                log_table(table, name, "transitions")
            for name, fig in figs.items():
                log_figure(fig, name, "transitions")
            mlflow.log_dict(rec, "transitions/reconciliation.json")
            result.run_id = run.info.run_id
    return result
