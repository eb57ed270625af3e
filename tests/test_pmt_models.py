"""PMT models on the synthetic world: fit quality, exact contributions, cut points, uncertainty
calibration, behavioural (directional and invariance) tests, determinism, explanations, pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from features.build import build_features
from features.welfare import welfare_from_log_pcexp
from models.cut_points import people_share_by_desil
from models.lgbm import LGBMPMT
from models.ols import OLSPMT
from models.pmt import SCORE_COLUMNS, PMTModel, survey_matrix
from models.uncertainty import prob_below

KINDS = ("ols", "lgbm")
HOLDOUT_SHARE = 0.25
# The fixture's own survey is a ~2 % sample (61 of 3,000 families): too few to fit and hold out.
# The tests draw a larger survey-like sample from the generator's truth instead (SURVEY_SHARE of the
# families, equal weights), which is what a SUSENAS sample would measure without error.
SURVEY_SHARE = 0.6
# Held-out R² floors. Observed on the 3,000-family fixture (seed 7, 1,378 training rows): OLS 0.84,
# LightGBM 0.81 (measured); the floors leave room for seed and generator changes, far above a constant (0).
MIN_R2 = {"ols": 0.60, "lgbm": 0.60}
COVERAGE_TOLERANCE = 0.06  # |empirical - 0.80| on the held-out survey rows (binomial sd ~2 pp)


def _survey_from_truth(families: pd.DataFrame, truth: pd.DataFrame, seed: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sample = truth[rng.random(len(truth)) < SURVEY_SHARE]
    return pd.DataFrame({
        "family_id": sample["family_id"].astype(str).to_numpy(),
        "log_pcexp": sample["true_log_pcexp"].to_numpy(dtype=float),
        "survey_weight": np.full(len(sample), len(families) / len(sample)),
    })


def _split_survey(survey: pd.DataFrame, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    holdout = rng.random(len(survey)) < HOLDOUT_SHARE
    return survey[~holdout].reset_index(drop=True), survey[holdout].reset_index(drop=True)


@pytest.fixture(scope="module")
def world(small_population):
    pop = small_population
    train, holdout = _split_survey(_survey_from_truth(pop.families, pop.truth))
    return pop.families, pop.members, train, holdout


@pytest.fixture(scope="module")
def models(world):
    families, members, train, _ = world
    fitted = {}
    for kind in KINDS:
        model = PMTModel.fit(families, members, train, kind=kind, seed=3)
        fitted[kind] = model.fit_cut_points(families, members)
    return fitted


@pytest.fixture(scope="module")
def scores(world, models):
    families, members, _, _ = world
    return {kind: m.score(families, members) for kind, m in models.items()}


def _weighted_r2(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> float:
    mean = np.average(y, weights=w)
    return 1.0 - np.average((y - pred) ** 2, weights=w) / np.average((y - mean) ** 2, weights=w)


@pytest.mark.parametrize("kind", KINDS)
def test_fits_and_beats_constant_on_held_out_survey(world, models, kind):
    families, members, train, holdout = world
    X, y, w = survey_matrix(families, members, holdout)
    pred = models[kind].predict_matrix(X)
    r2 = _weighted_r2(y, pred, w)
    constant = np.full_like(y, np.average(train["log_pcexp"], weights=train["survey_weight"]))
    assert r2 > MIN_R2[kind], f"{kind} held-out R² {r2:.3f}"
    assert np.average((y - pred) ** 2, weights=w) < np.average((y - constant) ** 2, weights=w)


@pytest.mark.parametrize("kind", KINDS)
def test_contributions_sum_to_predictions(world, models, scores, kind):
    families, members, _, _ = world
    fam = families.iloc[:300]
    mem = members[members["family_id"].isin(fam["family_id"])]
    pred = scores[kind]["predicted_log_pcexp"].to_numpy()[:300]
    raw = models[kind].contributions(fam, mem, by="raw")
    feat = models[kind].contributions(fam, mem, by="feature")
    assert "baseline" in raw.columns and "asset_car" in raw.columns and "members.age" in raw.columns
    np.testing.assert_allclose(raw.sum(axis=1).to_numpy(), pred, atol=1e-9)
    np.testing.assert_allclose(feat.sum(axis=1).to_numpy(), pred, atol=1e-9)
    assert (raw.drop(columns="baseline").abs().sum(axis=1) > 0).all()


@pytest.mark.parametrize("kind", KINDS)
def test_score_contract_and_cut_points_balance_people(world, models, scores, kind):
    families, members, _, _ = world
    out = scores[kind]
    assert list(out.columns) == list(SCORE_COLUMNS)
    assert out["family_id"].tolist() == families["family_id"].astype(str).tolist()
    assert len(models[kind].cut_points) == 9 and np.all(np.diff(models[kind].cut_points) >= 0)
    sizes = build_features(families, members)["family_size"].to_numpy()
    shares = people_share_by_desil(out["desil"].to_numpy(), sizes)
    assert np.all(np.abs(shares - 0.1) <= 0.005), shares
    welfare = welfare_from_log_pcexp(out["predicted_log_pcexp"], families["province_code"].astype(str))
    np.testing.assert_allclose(out["welfare"], welfare)
    assert (out["p_desil_le_4"] <= out["p_desil_le_5"] + 1e-12).all()
    assert out[["p_desil_le_4", "p_desil_le_5"]].stack().between(0, 1).all()
    assert (out["pi_low"] < out["predicted_log_pcexp"]).all() and (out["pi_high"] > out["predicted_log_pcexp"]).all()
    # P(desil <= 4) is the predictive probability of welfare below the 4th cut point
    expected = prob_below(out["welfare"], out["sd"], models[kind].cut_points[3])
    np.testing.assert_allclose(out["p_desil_le_4"], expected)


@pytest.mark.parametrize("kind", KINDS)
def test_uncertainty_interval_coverage_on_held_out_survey(world, models, kind):
    families, members, _, holdout = world
    fam_ids = set(holdout["family_id"])
    fam = families[families["family_id"].isin(fam_ids)]
    out = models[kind].score(fam, members[members["family_id"].isin(fam_ids)]).set_index("family_id")
    out = out.loc[holdout["family_id"].astype(str)]
    y = holdout["log_pcexp"].to_numpy()
    inside = (y >= out["pi_low"].to_numpy()) & (y <= out["pi_high"].to_numpy())
    coverage = float(np.average(inside, weights=holdout["survey_weight"]))
    assert abs(coverage - 0.80) <= COVERAGE_TOLERANCE, f"{kind} 80% interval covers {coverage:.3f}"


def _richer(families: pd.DataFrame) -> pd.DataFrame:
    """The same families given a car and 2,200 VA metered PLN power (at least their current power)."""
    out = families.copy()
    out["asset_car"] = pd.array([True] * len(out), dtype=out["asset_car"].dtype)
    out["lighting_source"] = pd.array([1] * len(out), dtype=out["lighting_source"].dtype)
    power = out["pln_installed_power"].astype("Float64").fillna(0).to_numpy(dtype=float)
    out["pln_installed_power"] = pd.array(np.maximum(power, 4).astype(int), dtype=out["pln_installed_power"].dtype)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_directional_car_and_pln_power_do_not_raise_poverty_probability(world, models, scores, kind):
    families, members, _, _ = world
    base = scores[kind]
    changed = models[kind].score(_richer(families), members)
    diff = changed["p_desil_le_4"].to_numpy() - base["p_desil_le_4"].to_numpy()
    affected = (base["p_desil_le_4"] > 0.01).to_numpy()  # families with something to lose
    assert diff[affected].mean() < 0, f"{kind}: mean change {diff[affected].mean():+.4f}"
    assert (diff[affected] <= 1e-9).mean() >= 0.9, f"{kind}: {(diff[affected] > 1e-9).mean():.1%} rose"
    assert (changed["desil"].to_numpy() >= base["desil"].to_numpy()).mean() >= 0.95


@pytest.mark.parametrize("kind", KINDS)
def test_invariance_to_fields_the_model_does_not_use(world, models, scores, kind):
    families, members, _, _ = world
    base = scores[kind].drop(columns="family_id")
    # member row order, rule fields, and the family_id strings themselves
    shuffled = members.sample(frac=1.0, random_state=5).copy()
    shuffled["negative_list"] = pd.array([1] * len(shuffled), dtype=shuffled["negative_list"].dtype)
    mapping = {fid: f"Z{i:08d}" for i, fid in enumerate(families["family_id"].astype(str))}
    fam2 = families.copy()
    fam2["family_id"] = fam2["family_id"].astype(str).map(mapping)
    shuffled["family_id"] = shuffled["family_id"].astype(str).map(mapping)
    out = models[kind].score(fam2, shuffled)
    assert out["family_id"].tolist() == fam2["family_id"].tolist()
    pd.testing.assert_frame_equal(out.drop(columns="family_id"), base)


def test_determinism_by_seed(world, models):
    families, members, train, holdout = world
    X, _, _ = survey_matrix(families, members, holdout)
    again = PMTModel.fit(families, members, train, kind="lgbm", seed=3)
    np.testing.assert_array_equal(again.predict_matrix(X), models["lgbm"].predict_matrix(X))
    np.testing.assert_array_equal(again.uncertainty.predictive_sd(X), models["lgbm"].uncertainty.predictive_sd(X))
    X_train, y_train, w_train = survey_matrix(families, members, train)
    other = LGBMPMT(models["lgbm"].config.lgbm).fit(X_train, y_train, w_train, seed=4)
    assert not np.array_equal(other.predict(X), models["lgbm"].predict_matrix(X))
    ols_again = OLSPMT(models["ols"].config.ols).fit(X_train, y_train, w_train)
    np.testing.assert_array_equal(ols_again.predict(X), models["ols"].predict_matrix(X))


@pytest.mark.parametrize("kind", KINDS)
def test_explain_names_variables_in_words(world, models, scores, kind):
    families, members, _, _ = world
    fam = families.iloc[:10]
    mem = members[members["family_id"].isin(fam["family_id"])]
    out = models[kind].explain(fam, mem, top_k=5)
    assert [e["family_id"] for e in out] == fam["family_id"].astype(str).tolist()
    np.testing.assert_array_equal([e["desil"] for e in out], scores[kind]["desil"].to_numpy()[:10])
    raw = models[kind].contributions(fam, mem)
    for e, (_, row) in zip(out, raw.iterrows(), strict=True):
        items = e["contributions"]
        assert len(items) == 5
        assert [abs(i["contribution"]) for i in items] == sorted((abs(i["contribution"]) for i in items), reverse=True)
        top = row.drop("baseline").abs().idxmax()
        assert items[0]["variable"] == top
        for item in items:
            assert "log expenditure" in item["text"] and f"{item['contribution']:+.2f}" in item["text"]
            assert item["value"] and isinstance(item["value"], str)


def test_explain_text_for_an_owned_car(world, models):
    families, members, _, _ = world
    fam = _richer(families.iloc[:200])
    mem = members[members["family_id"].isin(fam["family_id"])]
    out = models["ols"].explain(fam, mem, top_k=1000)
    texts = [i["text"] for e in out for i in e["contributions"] if i["variable"] == "asset_car"]
    assert texts and all(t.startswith("owns a car: ") for t in texts)


@pytest.mark.parametrize("kind", KINDS)
def test_pickle_round_trip_scores_identically(world, models, scores, kind):
    families, members, _, _ = world
    loaded = pickle.loads(pickle.dumps(models[kind]))
    pd.testing.assert_frame_equal(loaded.score(families, members), scores[kind])


def test_bad_survey_input_is_named(world):
    families, members, train, _ = world
    bad = train.copy()
    bad.loc[0, "family_id"] = "NOT-A-FAMILY-1"
    with pytest.raises(ValueError, match="NOT-A-FAMILY-1"):
        PMTModel.fit(families, members, bad, kind="ols")
    with pytest.raises(ValueError, match="unknown PMT model kind"):
        PMTModel.fit(families, members, train, kind="xgb")
