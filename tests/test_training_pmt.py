"""End to end: train the OLS and LightGBM PMT into a real MLflow SQLite store, register, load back with
mlflow.pyfunc, rank raw families, compare two versions."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from config.synth import synth_config
from data.synth import write_population
from features.nested_input import to_nested
from models.cut_points import people_share_by_desil
from models.pmt_pyfunc import PhotoModelMismatch, rank_nested
from models.ranking import rank_families
from training.compare import compare_versions
from training.train_pmt import train_pmt

FAMILIES = 4000
SEED = 11


@pytest.fixture(scope="module")
def population_dir(tmp_path_factory) -> Path:
    cfg = synth_config()
    cfg = cfg.model_copy(update={"survey": cfg.survey.model_copy(update={"share": 0.2})})
    out = tmp_path_factory.mktemp("pmt_population")
    write_population(FAMILIES, seed=SEED, out_dir=out, config=cfg, progress=False)
    return out


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def trained(population_dir, tracking_uri):
    ols = train_pmt(population_dir, "ols", seed=SEED, register=True, alias="baseline", tracking_uri=tracking_uri)
    lgbm = train_pmt(population_dir, "lgbm", seed=SEED, register=True, alias="champion", tracking_uri=tracking_uri)
    return {"ols": ols, "lgbm": lgbm}


def _tables(population_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_parquet(population_dir / "families.parquet"), pd.read_parquet(population_dir / "members.parquet")


def test_runs_carry_lineage_metrics_and_plots(trained, tracking_uri):
    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    for kind, result in trained.items():
        run = client.get_run(result.run_id)
        assert run.data.tags["seed"] == str(SEED)
        assert len(run.data.tags["data_fingerprint"]) == 16
        assert run.data.tags["git_commit"]
        assert run.data.params["model_kind"] == kind
        for name in ("holdout_r2", "holdout_spearman", "population_spearman", "desil_exact_accuracy",
                     "exclusion_error_d4_family", "inclusion_error_d4_person", "exclusion_error_d5_person",
                     "gap_exclusion_error_d4_person_urban_minus_rural", "train_seconds"):
            assert name in run.data.metrics, f"{kind} run lacks metric {name}"
        assert run.data.metrics["holdout_r2"] > 0.5
        assert run.data.metrics["population_spearman"] > 0.8
        artifacts = {a.path for a in client.list_artifacts(result.run_id, "plots")}
        assert {"plots/desil_confusion.png", "plots/calibration.png", "plots/province_errors.png",
                "plots/feature_importance.png"} <= artifacts


def test_registry_aliases_point_at_the_new_versions(trained, tracking_uri):
    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    champion = client.get_model_version_by_alias("desil-pmt", "champion")
    baseline = client.get_model_version_by_alias("desil-pmt", "baseline")
    assert str(champion.version) == trained["lgbm"].registered_version
    assert str(baseline.version) == trained["ols"].registered_version
    assert champion.run_id == trained["lgbm"].run_id


def test_loaded_pyfunc_ranks_raw_families_like_the_in_memory_model(trained, population_dir, tracking_uri):
    mlflow.set_tracking_uri(tracking_uri)
    families, members = _tables(population_dir)
    sample = families.iloc[::7].reset_index(drop=True)
    sample_members = members[members["family_id"].isin(sample["family_id"])]
    loaded = mlflow.pyfunc.load_model("models:/desil-pmt@champion")
    out = loaded.predict(to_nested(sample, sample_members))
    expected = rank_families(trained["lgbm"].model, sample, sample_members)
    assert out["family_id"].tolist() == sample["family_id"].tolist()
    assert out["error"].isna().all()
    np.testing.assert_array_equal(out["desil"].to_numpy(dtype=int), expected["desil"].to_numpy(dtype=int))
    np.testing.assert_allclose(out["predicted_log_pcexp"], expected["predicted_log_pcexp"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(out["p_desil_le_4"], expected["p_desil_le_4"], rtol=0, atol=1e-9)


def test_pyfunc_returns_every_family_with_errors_for_bad_ones(trained, population_dir, tracking_uri):
    mlflow.set_tracking_uri(tracking_uri)
    families, members = _tables(population_dir)
    sample = families.head(6).copy()
    sample.loc[2, "floor_material"] = 42
    nested = to_nested(sample, members[members["family_id"].isin(sample["family_id"])])
    out = mlflow.pyfunc.load_model("models:/desil-pmt@champion").predict(nested)
    assert out["family_id"].tolist() == sample["family_id"].tolist()
    bad = out.iloc[2]
    assert pd.isna(bad["desil"]) and "floor_material" in bad["error"] and sample.loc[2, "family_id"] in bad["error"]
    assert out.drop(index=2)["error"].isna().all()
    assert out.drop(index=2)["desil"].between(1, 10).all()


def test_cut_points_balance_people_per_desil(trained, population_dir):
    families, members = _tables(population_dir)
    scored = trained["lgbm"].model.score(families, members)
    people = members.groupby("family_id").size().reindex(scored["family_id"]).to_numpy()
    shares = people_share_by_desil(scored["desil"].to_numpy(), people)
    assert np.all(np.abs(shares - 0.1) <= 0.005), shares


def test_photo_features_from_an_unknown_cnn_version_are_refused(trained, population_dir):
    families, members = _tables(population_dir)
    nested = to_nested(families.head(2), members[members["family_id"].isin(families.head(2)["family_id"])])
    nested["photo_wall_masonry"] = [0.9, 0.1]
    with pytest.raises(PhotoModelMismatch, match="without photo features"):
        rank_nested(trained["lgbm"].model, nested, photo_model_version="3")


def test_compare_reports_transitions_that_add_up_to_the_population(trained, population_dir, tracking_uri):
    comp = compare_versions("@baseline", "@champion", population_dir, tracking_uri=tracking_uri)
    families, members = _tables(population_dir)
    assert comp.transitions_families.shape == (10, 10)
    assert int(comp.transitions_families.to_numpy().sum()) == len(families)
    assert int(comp.transitions_people.to_numpy().sum()) == len(members)
    deltas = comp.metric_deltas
    assert "exclusion_error_d4_family" in deltas.index
    row = deltas.loc["holdout_r2"]
    assert row["delta"] == pytest.approx(row["b"] - row["a"])
    client = MlflowClient()
    assert {a.path for a in client.list_artifacts(comp.run_id, "comparison")} >= {
        "comparison/report.html", "comparison/transitions_families.png", "comparison/transitions_people.csv"}
    crossings = comp.line_crossings.loc["desil<=4"]
    assert crossings["families_eligible_b"] - crossings["families_eligible_a"] == (
        crossings["families_enter"] - crossings["families_leave"])
