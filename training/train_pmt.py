"""Train a PMT model (OLS baseline or LightGBM) on the survey sample of a population folder, evaluate
it, and log everything to MLflow; optionally register it as `desil-pmt` and move an alias.

A population folder holds families.parquet, members.parquet, survey.parquet and, for synthetic
populations, truth.parquet (used for evaluation only, never as a model input).
"""

from __future__ import annotations

import json
import pickle
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from config import programs_config, project_config
from data.fingerprint import dataset_fingerprint
from data.synth import generate_population
from features.build import PHOTO_COLUMNS
from features.nested_input import to_nested
from features.regions import provinces
from features.validation import validate_population
from models.pmt import PMTModel
from models.pmt_pyfunc import PMT_ARTIFACT, PMTPyfunc
from training import plots
from training.evaluate import evaluate_population, holdout_metrics
from training.pmt_signature import pmt_signature
from training.tracking import configure_tracking, lineage_tags

INPUT_EXAMPLE_FAMILIES = 3
EXAMPLE_POPULATION = 200  # synthetic families generated to draw the input example from
IMPORTANCE_SAMPLE = 20_000
PIP_REQUIREMENTS_FILE = Path(__file__).resolve().parent.parent / "requirements.lock"
MODEL_CODE_PATHS = ("features", "models", "config")


@dataclass(frozen=True)
class PopulationTables:
    """The validated tables of a population folder (truth is None for real data).

    families/members hold only families that pass features.validation (the same gate as serving and
    the batch job); `problems` lists why the others were rejected; survey/truth are restricted to the
    valid families."""

    families: pd.DataFrame
    members: pd.DataFrame
    survey: pd.DataFrame
    truth: pd.DataFrame | None
    files: dict[str, Path]
    rejected_family_ids: list[str]
    problems: pd.DataFrame


def load_population(data_dir: str | Path) -> PopulationTables:
    """Read and validate a population folder; raises with the missing file's name when one is absent."""
    root = Path(data_dir)
    files = {name: root / f"{name}.parquet" for name in ("families", "members", "survey", "truth")}
    for name in ("families", "members", "survey"):
        if not files[name].exists():
            raise FileNotFoundError(f"{files[name]} is missing: a population folder needs {name}.parquet")
    truth = pd.read_parquet(files["truth"]) if files["truth"].exists() else None
    if truth is None:
        files.pop("truth")
    checked = validate_population(pd.read_parquet(files["families"]), pd.read_parquet(files["members"]))
    valid_ids = set(checked.valid_families["family_id"].astype(str))
    if not valid_ids:
        raise ValueError(f"no family in {root} passes validation; first problems:\n"
                         + "\n".join(checked.errors["message"].astype(str).head(10)))
    survey = pd.read_parquet(files["survey"])
    survey = survey[survey["family_id"].astype(str).isin(valid_ids)].reset_index(drop=True)
    if truth is not None:
        truth = truth[truth["family_id"].astype(str).isin(valid_ids)].reset_index(drop=True)
    return PopulationTables(
        families=checked.valid_families, members=checked.valid_members, survey=survey, truth=truth,
        files=files, rejected_family_ids=checked.rejected_family_ids, problems=checked.errors)


def synthetic_input_example(n_families: int = INPUT_EXAMPLE_FAMILIES) -> pd.DataFrame:
    """A nested input example drawn from the synthetic generator (never from the training data, which
    may be real people)."""
    pop = generate_population(EXAMPLE_POPULATION, seed=0)
    families = pop.families.head(n_families)
    return to_nested(families, pop.members[pop.members["family_id"].isin(families["family_id"])])


def split_survey(survey: pd.DataFrame, holdout_share: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded random split of the survey families into (train, holdout)."""
    rng = np.random.default_rng([seed, 1])
    is_holdout = rng.random(len(survey)) < holdout_share
    return survey.loc[~is_holdout].reset_index(drop=True), survey.loc[is_holdout].reset_index(drop=True)


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    model_uri: str
    registered_version: str | None
    metrics: dict[str, float]
    model: PMTModel
    train_seconds: float


def _log_figure(fig, name: str) -> None:
    mlflow.log_figure(fig, f"plots/{name}.png")
    plots.close(fig)


def _log_table(df: pd.DataFrame, name: str) -> None:
    mlflow.log_text(df.to_csv(), f"tables/{name}.csv")


def raw_importance(model: PMTModel, families: pd.DataFrame, members: pd.DataFrame, seed: int,
                   photo_features: pd.DataFrame | None = None) -> pd.Series:
    """Mean |contribution| per raw variable over a seeded sample of families (log expenditure units)."""
    n = min(IMPORTANCE_SAMPLE, len(families))
    sample = families.sample(n=n, random_state=seed) if n < len(families) else families
    mem = members[members["family_id"].isin(sample["family_id"])]
    contrib = model.contributions(sample, mem, photo_features, by="raw")
    contrib = contrib.drop(columns=[c for c in ("baseline", "family_id") if c in contrib.columns])
    return contrib.abs().mean().sort_values(ascending=False)


def log_pmt_model(model: PMTModel, registered_name: str | None) -> mlflow.models.model.ModelInfo:
    """Log the self-contained pyfunc (code, pickled PMTModel, signature, synthetic input example)."""
    program_names = [p.name for p in programs_config().programs]
    example = synthetic_input_example()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pmt_model.pkl"
        with path.open("wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=PMTPyfunc(),
            artifacts={PMT_ARTIFACT: str(path)},
            code_paths=[str(Path(__file__).resolve().parent.parent / p) for p in MODEL_CODE_PATHS],
            signature=pmt_signature(program_names, list(PHOTO_COLUMNS) if model.photo_model_version else None),
            input_example=example,
            pip_requirements=str(PIP_REQUIREMENTS_FILE),
            registered_model_name=registered_name,
        )


def train_pmt(data_dir: str | Path, kind: str, seed: int = 0, register: bool = False, alias: str | None = None,
              tracking_uri: str | None = None, holdout_share: float = 0.2,
              photo_features: pd.DataFrame | None = None, photo_model_version: str | None = None,
              run_name: str | None = None) -> TrainResult:
    """Fit `kind` ('ols' | 'lgbm') on the survey sample, rank the whole population, evaluate, log.

    Returns the run id, the logged model URI, the registered version (when register) and metrics.
    """
    configure_tracking(tracking_uri)
    pop = load_population(data_dir)
    lineage = dataset_fingerprint(pop.files)
    train_survey, holdout_survey = split_survey(pop.survey, holdout_share, seed)
    cfg = project_config()
    with mlflow.start_run(run_name=run_name or f"pmt-{kind}",
                          tags=lineage_tags(seed, str(lineage["data_fingerprint"]), job="train_pmt",
                                            model_kind=kind)) as run:
        mlflow.log_params({"model_kind": kind, "seed": seed, "holdout_share": holdout_share,
                           "survey_train_families": len(train_survey),
                           "survey_holdout_families": len(holdout_survey),
                           "population_families": len(pop.families),
                           "rejected_families": len(pop.rejected_family_ids),
                           "photo_model_version": photo_model_version or "none"})
        mlflow.log_params({f"data_{k}": v for k, v in lineage.items()})
        mlflow.log_dict(lineage, "lineage/data_fingerprint.json")
        if pop.rejected_family_ids:
            _log_table(pop.problems, "rejected_by_validation")

        t0 = time.perf_counter()
        model = PMTModel.fit(pop.families, pop.members, train_survey, kind=kind, seed=seed,
                             photo_features=photo_features, photo_model_version=photo_model_version)
        train_seconds = time.perf_counter() - t0
        mlflow.log_params({f"model_{k}": v for k, v in model.params().items()})
        model.fit_cut_points(pop.families, pop.members, photo_features)
        scored = model.score(pop.families, pop.members, photo_features)
        mlflow.log_dict({"cut_points_welfare": [float(c) for c in model.cut_points]}, "model_meta/cut_points.json")

        metrics: dict[str, float] = {"train_seconds": train_seconds}
        held = holdout_survey.merge(scored[["family_id", "predicted_log_pcexp", "pi_low", "pi_high"]],
                                    on="family_id", how="inner", validate="one_to_one")
        y = held["log_pcexp"].to_numpy(dtype=float)
        pred = held["predicted_log_pcexp"].to_numpy(dtype=float)
        w = held["survey_weight"].to_numpy(dtype=float)
        metrics.update(holdout_metrics(y, pred, w))
        metrics["holdout_interval_coverage"] = float(np.average(
            (y >= held["pi_low"].to_numpy()) & (y <= held["pi_high"].to_numpy()), weights=w))
        _log_figure(plots.calibration(y, pred, w), "calibration")

        if pop.truth is not None:
            ev = evaluate_population(scored, pop.truth, pop.families, pop.members)
            metrics.update(ev.metrics)
            _log_figure(plots.decile_confusion(ev.confusion), "desil_confusion")
            _log_figure(plots.per_province_errors(ev.by_province, provinces()["province_name"]), "province_errors")
            _log_table(ev.by_province, "targeting_by_province")
            _log_table(ev.by_group, "targeting_by_group")
            _log_table(ev.confusion, "desil_confusion_people")
        importance = raw_importance(model, pop.families, pop.members, seed, photo_features)
        _log_figure(plots.feature_importance(importance), "feature_importance")
        _log_table(importance.to_frame("mean_abs_contribution"), "feature_importance")
        mlflow.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
        mlflow.log_text(json.dumps({k: v for k, v in metrics.items()}, indent=2, default=str), "metrics.json")

        registered_name = cfg.pmt_model_name if register else None
        info = log_pmt_model(model, registered_name)
        version = None
        if register:
            version = str(info.registered_model_version)
            if alias:
                MlflowClient().set_registered_model_alias(cfg.pmt_model_name, alias, version)
        return TrainResult(run_id=run.info.run_id, model_uri=info.model_uri, registered_version=version,
                           metrics=metrics, model=model, train_seconds=train_seconds)
