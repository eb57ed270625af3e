"""The synthetic population generator (data.synth): determinism, streaming = in-memory, the data
contract of every column, the truth and survey tables, the reference-table tolerances on a 200 k
population, Parquet round trips, the summary and the CLI. Real Parquet files, no mocks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from click.testing import CliRunner

from cli.data_commands import data
from config.synth import synth_config
from data.fingerprint import dataset_fingerprint, frame_fingerprint
from data.parquet_io import read_table
from data.summary import population_summary, summary_passes
from data.synth import TRUTH_DTYPES, generate_population, write_population
from features.regions import provinces
from features.schema import (
    FAMILY_FIELDS,
    FAMILY_ID_PATTERN,
    MEMBER_FIELDS,
    SURVEY_FIELDS,
    FieldSpec,
    allowed_provinces,
    allowed_regencies,
)
from features.welfare import welfare_from_log_pcexp
from models.cut_points import assign_desil, people_share_by_desil, weighted_cut_points
from tests.conftest import SMALL_FAMILIES, SMALL_SEED

TABLE_FILES = ("families", "members", "truth", "survey")


def _read_population(folder) -> dict[str, pd.DataFrame]:
    return {
        "families": read_table(folder / "families.parquet", "families"),
        "members": read_table(folder / "members.parquet", "members"),
        "truth": read_table(folder / "truth.parquet"),
        "survey": read_table(folder / "survey.parquet", "survey"),
    }


def _assert_field_valid(df: pd.DataFrame, spec: FieldSpec, table: str) -> None:
    """One column against its FieldSpec: dtype, nulls, categories, range, pattern, region codes."""
    assert spec.name in df.columns, f"{table}.{spec.name} missing"
    col = df[spec.name]
    assert str(col.dtype) == spec.pandas_dtype(), f"{table}.{spec.name}: dtype {col.dtype} != {spec.pandas_dtype()}"
    if not spec.nullable:
        assert not col.isna().any(), f"{table}.{spec.name} has nulls but is not nullable"
    values = col.dropna()
    if spec.kind == "category":
        bad = set(values.astype(int)) - set(spec.codes)
        assert not bad, f"{table}.{spec.name}: codes {sorted(bad)} not in {spec.codes}"
    if spec.kind in ("int", "float"):
        if spec.minimum is not None:
            assert (values >= spec.minimum).all(), f"{table}.{spec.name} below {spec.minimum}"
        if spec.maximum is not None:
            assert (values <= spec.maximum).all(), f"{table}.{spec.name} above {spec.maximum}"
        if spec.kind == "float":
            assert np.isfinite(values.to_numpy(dtype=np.float64)).all(), f"{table}.{spec.name} not finite"
    if spec.pattern:
        assert values.str.fullmatch(spec.pattern.strip("^$")).all(), f"{table}.{spec.name} breaks {spec.pattern}"
    if spec.name == "province_code":
        assert set(values) <= allowed_provinces()
    if spec.name == "regency_code":
        assert set(values) <= allowed_regencies()


# --------------------------------------------------------------------------------------------
# determinism and streaming
# --------------------------------------------------------------------------------------------
def test_same_seed_gives_identical_frames(small_population):
    again = generate_population(SMALL_FAMILIES, seed=SMALL_SEED)
    for name in TABLE_FILES:
        pdt.assert_frame_equal(getattr(small_population, name), getattr(again, name))


def test_different_seed_gives_different_population(small_population):
    other = generate_population(SMALL_FAMILIES, seed=SMALL_SEED + 1)
    assert not np.array_equal(
        other.truth["true_log_pcexp"].to_numpy(), small_population.truth["true_log_pcexp"].to_numpy()
    )
    assert frame_fingerprint(other.families) != frame_fingerprint(small_population.families)
    assert frame_fingerprint(other.members) != frame_fingerprint(small_population.members)


def test_written_files_equal_in_memory_population(small_population, small_population_dir):
    written = _read_population(small_population_dir)
    for name in TABLE_FILES:
        pdt.assert_frame_equal(written[name], getattr(small_population, name), check_exact=True)


def test_chunk_size_changes_neither_rows_nor_values(tmp_path):
    config = synth_config().model_copy(update={"block_families": 400})
    in_memory = generate_population(1000, seed=11, config=config)
    fingerprints = []
    for chunk in (400, 1000):
        out = tmp_path / f"chunk{chunk}"
        write_population(1000, seed=11, out_dir=out, config=config, chunk_size=chunk, progress=False)
        written = _read_population(out)
        for name in TABLE_FILES:
            pdt.assert_frame_equal(written[name], getattr(in_memory, name))
        fingerprints.append({name: frame_fingerprint(df) for name, df in written.items()})
    assert fingerprints[0] == fingerprints[1]


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="n_families"):
        generate_population(0, seed=1)
    with pytest.raises(ValueError, match="seed"):
        generate_population(10, seed=-1)
    with pytest.raises(ValueError, match="chunk_size"):
        write_population(10, seed=1, out_dir=tmp_path, chunk_size=-5, progress=False)


# --------------------------------------------------------------------------------------------
# the data contract
# --------------------------------------------------------------------------------------------
def test_every_column_follows_the_schema(small_population):
    for table, fields in (("families", FAMILY_FIELDS), ("members", MEMBER_FIELDS), ("survey", SURVEY_FIELDS)):
        df = getattr(small_population, table)
        assert list(df.columns) == [f.name for f in fields], f"{table} columns differ from the schema"
        for spec in fields:
            _assert_field_valid(df, spec, table)


def test_conditional_nulls_hold(small_population):
    fam, mem = small_population.families, small_population.members
    metered = fam["lighting_source"] == 1
    assert (fam["pln_installed_power"].notna() == metered).all()
    no_toilet = fam["toilet_facility"] == 6
    assert (fam["toilet_type"].isna() == no_toilet).all()
    assert (fam["sewage_disposal"].isna() == no_toilet).all()
    assert no_toilet.any() and (~metered).any(), "the sample should exercise both branches"
    works = mem["works"].astype(bool)
    assert (mem["industry"].notna() == works).all()
    assert (mem["employment_status"].notna() == works).all()
    never = mem["school_participation"] == 1
    assert (mem["school_level"].isna() == never).all()
    assert (mem.loc[never, "highest_certificate"] == 0).all()


def test_family_and_member_structure(small_population):
    fam, mem, truth = small_population.families, small_population.members, small_population.truth
    expected_ids = [f"F{i:010d}" for i in range(SMALL_FAMILIES)]
    assert fam["family_id"].tolist() == expected_ids
    assert truth["family_id"].tolist() == expected_ids
    assert fam["family_id"].str.fullmatch(FAMILY_ID_PATTERN.strip("^$")).all()
    # members sorted by (family_id, member_no), numbered 1..n without gaps, n = truth.n_members
    keys = mem[["family_id", "member_no"]]
    assert keys.equals(keys.sort_values(["family_id", "member_no"]).reset_index(drop=True))
    counts = mem.groupby("family_id")["member_no"].agg(["count", "max", "min"])
    sizes = truth.set_index("family_id")["n_members"].astype(int)
    assert (counts["count"] == sizes.loc[counts.index]).all() and len(counts) == SMALL_FAMILIES
    assert (counts["max"] == counts["count"]).all() and (counts["min"] == 1).all()
    heads = mem[mem["relationship"] == 1]
    assert heads["family_id"].is_unique and len(heads) == SMALL_FAMILIES
    assert (heads["member_no"] == 1).all()
    # region codes agree: a regency's first two digits are its province
    assert (fam["regency_code"].str[:2] == fam["province_code"]).all()


def test_independent_validator_accepts_the_population(small_population):
    validation = pytest.importorskip("features.validation")
    result = validation.validate_population(small_population.families, small_population.members)
    assert len(result.problems) == 0, result.problems.head(10).to_string()


def test_members_are_demographically_plausible(small_population):
    mem = small_population.members
    heads = mem[mem["relationship"] == 1]
    spouses = mem[mem["relationship"] == 2]
    assert (heads["age"] >= 17).all() and (spouses["age"] >= 16).all()
    assert (spouses["marital_status"] == 2).all()
    assert (mem.loc[mem["age"] < 15, "marital_status"] == 1).all()
    assert not mem.loc[mem["age"] < 15, "works"].astype(bool).any()
    # a spouse has the opposite sex of the head
    pair = spouses.merge(heads[["family_id", "sex"]], on="family_id", suffixes=("", "_head"))
    assert (pair["sex"] != pair["sex_head"]).all()
    assert 0.45 < (mem["sex"] == 1).mean() < 0.55
    assert 0.75 < (heads["sex"] == 1).mean() < 0.92
    # certificates never exceed what the age allows (no bachelor before 22)
    assert (mem.loc[mem["age"] < 22, "highest_certificate"] <= 4).all()


# --------------------------------------------------------------------------------------------
# truth and survey
# --------------------------------------------------------------------------------------------
def test_truth_columns_and_desil(small_population):
    truth, fam = small_population.truth, small_population.families
    assert list(truth.columns) == list(TRUTH_DTYPES)
    assert {c: str(t) for c, t in truth.dtypes.items()} == TRUTH_DTYPES
    expected = welfare_from_log_pcexp(truth["true_log_pcexp"], fam["province_code"])
    np.testing.assert_allclose(truth["true_welfare"].to_numpy(), expected, rtol=0, atol=1e-12)
    assert (truth["poor"].astype(bool) == (truth["true_welfare"] < 0)).all()
    welfare = truth["true_welfare"].to_numpy()
    people = truth["n_members"].to_numpy(dtype=np.int64)
    desil = assign_desil(welfare, weighted_cut_points(welfare, people))
    np.testing.assert_array_equal(truth["true_desil"].to_numpy(dtype=np.int64), desil)
    shares = people_share_by_desil(truth["true_desil"].to_numpy(dtype=np.int64), people)
    np.testing.assert_allclose(shares, 0.1, atol=0.005)


def test_survey_sample_is_stratified_and_weighted(small_population):
    survey, truth, fam = small_population.survey, small_population.truth, small_population.families
    assert survey["family_id"].is_unique and survey["family_id"].is_monotonic_increasing
    assert set(survey["family_id"]) <= set(fam["family_id"])
    # every province with families is represented; weights sum to the number of families
    sampled = fam[fam["family_id"].isin(survey["family_id"])]
    assert set(sampled["province_code"]) == set(fam["province_code"])
    assert survey["survey_weight"].sum() == pytest.approx(SMALL_FAMILIES, rel=1e-9)
    by_prov = sampled.assign(w=survey.set_index("family_id").loc[sampled["family_id"], "survey_weight"].to_numpy())
    assert (by_prov.groupby("province_code")["w"].sum() == fam.groupby("province_code").size()).all()
    # observed = true + small noise
    merged = survey.merge(truth[["family_id", "true_log_pcexp"]], on="family_id")
    noise = merged["log_pcexp"] - merged["true_log_pcexp"]
    assert noise.abs().max() < 6 * synth_config().survey.noise_sd
    assert noise.abs().max() > 0


def test_survey_share_is_about_one_percent_in_a_large_population():
    pop = generate_population(100_000, seed=5)
    share = len(pop.survey) / 100_000
    assert 0.008 < share < 0.013
    assert pop.survey["survey_weight"].sum() == pytest.approx(100_000, rel=1e-9)


# --------------------------------------------------------------------------------------------
# behaviour: welfare drives observables, admin signals, misreporting
# --------------------------------------------------------------------------------------------
def test_welfare_drives_observables(small_population):
    df = small_population.families.merge(small_population.truth, on="family_id")
    poorest, richest = df[df["true_desil"] <= 3], df[df["true_desil"] >= 8]
    assert richest["asset_car"].mean() > poorest["asset_car"].mean() + 0.1
    assert richest["asset_refrigerator"].mean() > poorest["asset_refrigerator"].mean() + 0.2
    assert (richest["floor_material"] == 2).mean() > (poorest["floor_material"] == 2).mean()
    assert (poorest["floor_material"] == 8).mean() >= (richest["floor_material"] == 8).mean()
    assert poorest["n_members"].mean() > richest["n_members"].mean()
    assert richest["floor_area_m2"].mean() > poorest["floor_area_m2"].mean()
    pbi = df["bpjs_kes_segment"].isin([1, 2])
    assert pbi[df["true_desil"] <= 3].mean() > pbi[df["true_desil"] >= 8].mean() + 0.3


def test_admin_signals_are_consistent(small_population):
    df = small_population.families.merge(small_population.truth, on="family_id")
    matched = df["pln_tariff_class"].notna()
    assert 0.8 < matched[df["lighting_source"] == 1].mean() < 0.97
    assert not matched[df["lighting_source"] != 1].any()
    expected = {1: {1}, 2: {2, 3}, 3: {4}, 4: {5}, 5: {6, 7}}
    pairs = df.loc[matched, ["true_pln_installed_power", "pln_tariff_class"]].astype(int)
    assert all(t in expected[p] for p, t in pairs.itertuples(index=False))
    assert (df["pln_kwh_month"].notna() == matched).all()
    # arrears only for self-paying members (PBPU, segments 4-6)
    pbpu = df["bpjs_kes_segment"].isin([4, 5, 6])
    assert (df["bpjs_kes_arrears_months"].notna() == pbpu).all()
    assert (df.loc[df["bpjs_tk_wage_rp"].notna(), "bpjs_tk_active"] == True).all()  # noqa: E712
    for source in ("bpjs_kes_segment", "bpjs_tk_active", "samsat_cars"):
        rate = df[source].notna().mean()
        assert 0.75 < rate < 0.99, f"{source} match rate {rate}"
    # Samsat follows the TRUE vehicles: most owners are registered, with some mismatch
    sam = df[df["samsat_cars"].notna()]
    agree = (sam["samsat_cars"] == sam["true_cars"]).mean()
    assert 0.85 < agree < 1.0


def test_misreporting_hides_assets_and_downgrades_housing(small_population):
    df = small_population.families.merge(small_population.truth, on="family_id")
    honest = ~df["misreported_assets"].astype(bool)
    liars = ~honest
    assert 0.06 < liars.mean() < 0.14
    has_car = df["true_cars"] > 0
    assert (df.loc[honest, "asset_car"] == has_car[honest]).all()
    assert (df.loc[liars & ~has_car, "asset_car"] == False).all()  # noqa: E712
    assert (df.loc[liars & has_car, "asset_car"] == False).any()  # noqa: E712
    true_housing = ~df["misreported_housing"].astype(bool)
    for kind in ("floor", "wall", "roof"):
        assert (df.loc[true_housing, f"{kind}_material"] == df.loc[true_housing, f"true_{kind}_material"]).all()
    assert (df["floor_material"] != df["true_floor_material"]).any()


def test_negative_list_and_rules_are_rare(small_population):
    mem, fam = small_population.members, small_population.families
    flagged = (mem["negative_list"] != 0).mean()
    assert 0.005 < flagged < 0.08
    assert 0.93 < (fam["ground_check_status"] == 1).mean() < 0.995
    assert fam["refused_program"].mean() < 0.03


# --------------------------------------------------------------------------------------------
# reference tolerances (200 k families; runs in CI)
# --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_reference_table_tolerances_hold_on_200k_families():
    tol = synth_config().tolerances
    pop = generate_population(200_000, seed=2024)
    summary = population_summary(pop).set_index("code")
    assert summary_passes(summary), summary.loc[~summary["ok"], ["verdict"]].to_string()
    nat, java = summary.loc["ID"], summary.loc["JAVA"]
    assert abs(nat["poverty_rate_pct"] - 9.03) <= tol.national_poverty_pp
    assert abs(java["poor_share_pct"] - 52.49) <= tol.java_poor_share_pp
    assert abs(nat["mean_family_size"] - 285_579_122 / 93_025_360) <= tol.mean_family_size
    big = summary.loc[summary.index.isin(provinces().index) & summary["checked"]]
    assert len(big) >= 20
    rel = (big["people_share_pct"] / big["ref_people_share_pct"] - 1).abs()
    assert (rel <= tol.province_people_share_rel).all()
    assert ((big["poverty_rate_pct"] - big["ref_poverty_rate_pct"]).abs() <= tol.province_poverty_pp).all()
    desil = pop.truth["true_desil"].to_numpy(dtype=np.int64)
    shares = people_share_by_desil(desil, pop.truth["n_members"].to_numpy(dtype=np.int64))
    np.testing.assert_allclose(shares, 0.1, atol=0.005)


def test_summary_fails_when_population_is_off(small_population):
    """The verdict can fail: a population whose poor are all relabelled non-poor is flagged."""
    truth = small_population.truth.copy()
    truth["poor"] = pd.array(np.zeros(len(truth), dtype=bool), dtype="boolean")
    summary = population_summary(type(small_population)(small_population.families, small_population.members,
                                                        truth, small_population.survey))
    # every poverty rate is 0 (national is 9.03 % in the reference), so the national line fails
    assert not summary_passes(summary)
    assert summary.set_index("code").loc["ID", "verdict"].startswith("FAIL")


# --------------------------------------------------------------------------------------------
# Parquet round trip, manifest, summary of a folder, CLI
# --------------------------------------------------------------------------------------------
def test_parquet_round_trip_keeps_dtypes_and_manifest(small_population_dir):
    for name, fields in (("families", FAMILY_FIELDS), ("members", MEMBER_FIELDS), ("survey", SURVEY_FIELDS)):
        raw = pd.read_parquet(small_population_dir / f"{name}.parquet")  # no coercion: stored dtypes
        assert {c: str(t) for c, t in raw.dtypes.items()} == {f.name: f.pandas_dtype() for f in fields}
    raw_truth = pd.read_parquet(small_population_dir / "truth.parquet")
    assert {c: str(t) for c, t in raw_truth.dtypes.items()} == TRUTH_DTYPES
    manifest = json.loads((small_population_dir / "manifest.json").read_text())
    assert manifest["seed"] == SMALL_SEED and manifest["n_families"] == SMALL_FAMILIES
    assert manifest["n_people"] == int(raw_truth["n_members"].sum())
    paths = {name: str(small_population_dir / f"{name}.parquet") for name in TABLE_FILES}
    assert manifest["fingerprint"] == dataset_fingerprint(paths)
    assert manifest["config"] == synth_config().model_dump()
    assert not (small_population_dir / "truth.partial.parquet").exists()


def test_summary_of_folder_equals_summary_of_population(small_population, small_population_dir):
    from_folder = population_summary(small_population_dir)
    in_memory = population_summary(small_population)
    pdt.assert_frame_equal(from_folder, in_memory)
    assert from_folder["families"].iloc[-1] == SMALL_FAMILIES
    assert len(from_folder) == len(provinces()) + 2


def test_cli_synth_writes_files_and_prints_summary(tmp_path):
    out = tmp_path / "pop"
    result = CliRunner().invoke(
        data, ["synth", "--families", "2000", "--seed", "3", "--out", str(out), "--survey-share", "0.05",
               "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    for name in TABLE_FILES:
        assert (out / f"{name}.parquet").exists()
    assert "Synthetic population vs BPS reference" in result.output and "Indonesia" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["survey"]["share"] == 0.05
    assert manifest["n_survey"] >= 0.04 * 2000
    again = CliRunner().invoke(data, ["summary", "--population", str(out)])
    assert again.exit_code == 0, again.output
    assert "Jawa Barat" in again.output


def test_cli_help_texts():
    for args in (["--help"], ["synth", "--help"], ["summary", "--help"]):
        result = CliRunner().invoke(data, args)
        assert result.exit_code == 0
    assert "--families" in CliRunner().invoke(data, ["synth", "--help"]).output


# --------------------------------------------------------------------------------------------
# non-additive relations (config heterogeneity, saturation, farm): switches, determinism, behaviour
# --------------------------------------------------------------------------------------------
def _with(config, **sections):
    """A copy of `config` with the named sections updated, e.g. farm={"enabled": False}."""
    return config.model_copy(
        update={name: getattr(config, name).model_copy(update=values) for name, values in sections.items()}
    )


def _all_off(config):
    return _with(config, heterogeneity={"enabled": False}, saturation={"enabled": False}, farm={"enabled": False})


def test_neutral_non_additive_settings_reproduce_the_switched_off_generator():
    """Heterogeneity with all multipliers 1 and saturation with slope 1 draw exactly what the
    switched-off (additive) generator draws: the switch adds the mechanism and nothing else."""
    off = _all_off(synth_config())
    neutral = _with(
        off,
        heterogeneity={"enabled": True, "urban_multiplier": 1.0, "rural_multiplier": 1.0, "java_multiplier": 1.0,
                       "east_multiplier": 1.0, "province_log_sd": 0.0},
        saturation={"enabled": True, "floor_area_slope_above": 1.0, "kwh_slope_above": 1.0},
    )
    a, b = generate_population(2000, seed=3, config=off), generate_population(2000, seed=3, config=neutral)
    for name in TABLE_FILES:
        pdt.assert_frame_equal(getattr(a, name), getattr(b, name))
    on = generate_population(2000, seed=3)
    assert not on.families.equals(a.families)


def test_farm_switch_changes_only_land_and_livestock():
    config = synth_config()
    on = generate_population(4000, seed=9, config=config)
    off = generate_population(4000, seed=9, config=_with(config, farm={"enabled": False}))
    farm_cols = ["asset_land", *config.assets.livestock]
    pdt.assert_frame_equal(on.families.drop(columns=farm_cols), off.families.drop(columns=farm_cols))
    for name in ("members", "truth", "survey"):
        pdt.assert_frame_equal(getattr(on, name), getattr(off, name))
    assert not on.families[farm_cols].equals(off.families[farm_cols])


def test_province_loading_multipliers_are_deterministic_and_grouped():
    from data.synth_nonadditive import province_loading_multipliers

    config = synth_config()
    h = config.heterogeneity
    codes = provinces().index.to_numpy(dtype=object)
    first = province_loading_multipliers(5, codes, config)
    np.testing.assert_array_equal(first, province_loading_multipliers(5, codes, config))
    assert not np.array_equal(first, province_loading_multipliers(6, codes, config))
    flat = _with(config, heterogeneity={"province_log_sd": 0.0})
    group = province_loading_multipliers(5, codes, flat)
    assert (group[np.isin(codes, h.java_provinces)] == h.java_multiplier).all()
    assert (group[np.isin(codes, h.east_provinces)] == h.east_multiplier).all()
    np.testing.assert_array_equal(province_loading_multipliers(5, codes, _all_off(config)), 1.0)


def _welfare_corr(df: pd.DataFrame, column: str) -> float:
    return float(np.corrcoef(df[column].astype(float), df["true_welfare"])[0, 1])


def test_assets_carry_more_welfare_signal_in_rural_areas_when_returns_are_heterogeneous():
    config = synth_config()
    gaps = {}
    for label, cfg in (("on", config), ("off", _with(config, heterogeneity={"enabled": False}))):
        pop = generate_population(30_000, seed=4, config=cfg)
        df = pop.families.merge(pop.truth, on="family_id")
        df["fridge"] = df["asset_refrigerator"].astype(bool)
        urban, rural = df[df["urban"].astype(bool)], df[~df["urban"].astype(bool)]
        gaps[label] = _welfare_corr(rural, "fridge") - _welfare_corr(urban, "fridge")
    assert gaps["on"] > gaps["off"] + 0.08, gaps


def test_floor_area_saturates_in_welfare():
    def slopes(cfg) -> tuple[float, float]:
        pop = generate_population(30_000, seed=4, config=cfg)
        z = pop.truth["true_welfare"].to_numpy()
        log_area = np.log(pop.families["floor_area_m2"].to_numpy(dtype=np.float64))
        low, high = z < np.median(z), z >= np.median(z)
        return float(np.polyfit(z[low], log_area[low], 1)[0]), float(np.polyfit(z[high], log_area[high], 1)[0])

    config = synth_config()
    low_on, high_on = slopes(config)
    low_off, high_off = slopes(_with(config, saturation={"enabled": False}))
    assert high_on < 0.6 * low_on, (low_on, high_on)
    assert high_off > 0.8 * low_off, (low_off, high_off)


def test_land_and_livestock_signal_welfare_in_farm_households_only():
    pop = generate_population(30_000, seed=4)
    agri = pop.members.assign(agri=pop.members["industry"] == 1).groupby("family_id", sort=False)["agri"].any()
    df = pop.families.merge(pop.truth, on="family_id").set_index("family_id")
    df["farm"] = agri.reindex(df.index).fillna(False).astype(bool)
    df["cattle"] = df["livestock_cattle"] > 0
    df["land"] = df["asset_land"].astype(bool)
    farm, other = df[df["farm"]], df[~df["farm"]]
    assert _welfare_corr(farm, "land") > _welfare_corr(other, "land") + 0.1
    assert _welfare_corr(farm, "cattle") > _welfare_corr(other, "cattle") + 0.05
    # land and cattle share the farm-wealth latent: they go together among farm households
    assert farm["cattle"][farm["land"]].mean() > farm["cattle"][~farm["land"]].mean()
