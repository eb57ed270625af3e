"""Compare two PMT model versions on one population, for reviewers.

Both models rank the same families with their own cut points. The comparison reports metric deltas
(from the two training runs), the 10x10 desil transition matrix in families and people, counts
crossing each program line (desil 4 and 5), and per-province changes. It is printed and logged to a
new MLflow run (HTML report, CSV tables, PNG heatmaps) that a reviewer opens in the MLflow UI.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from config import project_config
from features.regions import provinces
from models.pmt import PMTModel
from models.registry_uri import normalise_ref, resolve_version
from models.transitions import transition_matrix
from training import plots
from training.evaluate import PROGRAM_LINES
from training.tracking import configure_tracking, lineage_tags
from training.train_pmt import load_population


@dataclass(frozen=True)
class LoadedVersion:
    ref: str
    uri: str
    run_id: str | None
    version: str | None
    model: PMTModel


@dataclass(frozen=True)
class Comparison:
    a: LoadedVersion
    b: LoadedVersion
    metric_deltas: pd.DataFrame  # index metric; columns a, b, delta
    transitions_families: pd.DataFrame  # 10x10, rows desil under a, columns desil under b
    transitions_people: pd.DataFrame
    line_crossings: pd.DataFrame  # per program line: families/people in->out
    by_province: pd.DataFrame
    run_id: str


def load_version(ref: str) -> LoadedVersion:
    """Load a registered version or run's model and find the run that produced it."""
    uri = normalise_ref(ref, project_config().pmt_model_name)
    _, version, run_id = resolve_version(uri)
    model = mlflow.pyfunc.load_model(uri).unwrap_python_model().model
    return LoadedVersion(ref=ref, uri=uri, run_id=run_id, version=version, model=model)


def metric_deltas(a: LoadedVersion, b: LoadedVersion) -> pd.DataFrame:
    client = MlflowClient()
    ma = client.get_run(a.run_id).data.metrics if a.run_id else {}
    mb = client.get_run(b.run_id).data.metrics if b.run_id else {}
    names = sorted(set(ma) | set(mb))
    df = pd.DataFrame({"a": [ma.get(n, np.nan) for n in names], "b": [mb.get(n, np.nan) for n in names]},
                      index=pd.Index(names, name="metric"))
    df["delta"] = df["b"] - df["a"]
    return df


def line_crossings(da: np.ndarray, db: np.ndarray, people: np.ndarray) -> pd.DataFrame:
    """For each program line K: families/people that enter (above K under a, at or below under b) and leave."""
    rows = []
    for k in PROGRAM_LINES:
        enter = (da > k) & (db <= k)
        leave = (da <= k) & (db > k)
        rows.append({"line": f"desil<={k}", "families_enter": int(enter.sum()), "families_leave": int(leave.sum()),
                     "people_enter": int(people[enter].sum()), "people_leave": int(people[leave].sum()),
                     "families_eligible_a": int((da <= k).sum()), "families_eligible_b": int((db <= k).sum())})
    return pd.DataFrame(rows).set_index("line")


def province_changes(prov: np.ndarray, da: np.ndarray, db: np.ndarray, people: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame({"province_code": prov, "changed": da != db, "shift": db.astype(int) - da.astype(int),
                       "people": people, "leave_d4": (da <= 4) & (db > 4), "enter_d4": (da > 4) & (db <= 4)})
    g = df.groupby("province_code", sort=True)
    out = pd.DataFrame({
        "families": g.size(),
        "families_changed_desil": g["changed"].sum(),
        "mean_desil_shift": g["shift"].mean(),
        "families_enter_d4": g["enter_d4"].sum(),
        "families_leave_d4": g["leave_d4"].sum(),
    })
    out["share_changed"] = out["families_changed_desil"] / out["families"]
    out.insert(0, "province_name", provinces()["province_name"].reindex(out.index))
    return out


def report_html(c: Comparison, images: dict[str, bytes]) -> str:
    """A self-contained HTML report (tables + base64 PNGs) that the MLflow UI shows as an artifact."""
    def table(df: pd.DataFrame) -> str:
        return df.to_html(float_format=lambda v: f"{v:.4f}", border=0, classes="t")

    parts = [
        "<html><head><meta charset='utf-8'><style>body{font-family:sans-serif} .t{border-collapse:collapse;"
        "font-size:12px} .t td,.t th{padding:2px 6px;border-bottom:1px solid #ddd;text-align:right}</style>"
        "</head><body>",
        f"<h1>desil-pmt comparison</h1><p>A = <code>{c.a.uri}</code> (run {c.a.run_id}, version {c.a.version})"
        f"<br>B = <code>{c.b.uri}</code> (run {c.b.run_id}, version {c.b.version})</p>",
        "<h2>Metric deltas (B - A)</h2>", table(c.metric_deltas),
        "<h2>Program-line crossings (A to B)</h2>", table(c.line_crossings),
        "<h2>Desil transitions, families (rows: desil under A, columns: desil under B)</h2>",
        table(c.transitions_families),
        "<h2>Desil transitions, people</h2>", table(c.transitions_people),
    ]
    for name, png in images.items():
        parts.append(f"<h3>{name}</h3><img src='data:image/png;base64,{base64.b64encode(png).decode()}'>")
    parts += ["<h2>Per province</h2>", table(c.by_province), "</body></html>"]
    return "\n".join(parts)


def compare_versions(ref_a: str, ref_b: str, data_dir: str | Path, tracking_uri: str | None = None) -> Comparison:
    """Rank the population in `data_dir` with both versions and log the comparison as a new run."""
    configure_tracking(tracking_uri)
    pop = load_population(data_dir)
    a, b = load_version(ref_a), load_version(ref_b)
    sa = a.model.score(pop.families, pop.members).set_index("family_id")
    sb = b.model.score(pop.families, pop.members).set_index("family_id")
    people = pop.members.groupby("family_id").size().reindex(sa.index).fillna(0).to_numpy()
    prev = pd.DataFrame({"family_id": sa.index, "desil": sa["desil"].to_numpy(), "people": people})
    curr = pd.DataFrame({"family_id": sb.index, "desil": sb.loc[sa.index, "desil"].to_numpy(), "people": people})
    tm = transition_matrix(prev, curr)
    tf, tp = tm.families, tm.people
    da, db = prev["desil"].to_numpy(), curr["desil"].to_numpy()
    prov = pop.families.set_index("family_id").loc[sa.index, "province_code"].to_numpy()
    deltas = metric_deltas(a, b)
    crossings = line_crossings(da, db, people)
    by_prov = province_changes(prov, da, db, people)
    with mlflow.start_run(run_name=f"compare {a.version or a.run_id} vs {b.version or b.run_id}",
                          tags=lineage_tags(0, "n/a", job="compare_pmt", model_a=a.uri, model_b=b.uri)) as run:
        comp = Comparison(a=a, b=b, metric_deltas=deltas, transitions_families=tf, transitions_people=tp,
                          line_crossings=crossings, by_province=by_prov, run_id=run.info.run_id)
        mlflow.log_params({"model_a": a.uri, "model_b": b.uri, "run_a": a.run_id or "", "run_b": b.run_id or "",
                           "families": len(prev)})
        mlflow.log_metrics({"families_changed_desil": float((da != db).sum()),
                            "share_changed_desil": float((da != db).mean()),
                            **{f"{k}_{line.replace('<=', '_le_')}": float(v)
                               for line, row in crossings.iterrows() for k, v in row.items()}})
        for name, df in {"metric_deltas": deltas, "transitions_families": tf, "transitions_people": tp,
                         "line_crossings": crossings, "by_province": by_prov}.items():
            mlflow.log_text(df.to_csv(), f"comparison/{name}.csv")
        images: dict[str, bytes] = {}
        for name, df in {"transitions_families": tf, "transitions_people": tp}.items():
            fig = plots.matrix_heatmap(df, f"Desil transitions A -> B ({name.split('_')[1]}, row share)",
                                       "desil under B", "desil under A")
            mlflow.log_figure(fig, f"comparison/{name}.png")
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=80)
            images[name] = buf.getvalue()
            plots.close(fig)
        mlflow.log_text(report_html(comp, images), "comparison/report.html")
    return comp
