"""The national batch run (issue 6 §1-3): real Parquet population, a real model registered in a real
MLflow SQLite store, the real CLI. Cut points balance people; a killed run restarts without loss or
duplicates; rejects reconcile; transitions totals equal the populations; quotas sum exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from cli.population_commands import quota as quota_command
from cli.population_commands import rank_population as rank_command
from cli.population_commands import transitions as transitions_command
from features.regions import provinces
from models.cut_points import assign_desil, weighted_cut_points
from models.programs import programs
from serving.population import rank_population
from serving.population_mlflow import load_pmt, use_tracking
from serving.population_stream import UnsortedInputError, iter_population_chunks

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL = "models:/desil-pmt@champion"
CHUNK = 400


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory, small_population_dir) -> str:
    """A real SQLite MLflow store holding desil-pmt@champion trained on the small population."""
    from training.train_pmt import train_pmt

    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    train_pmt(small_population_dir, "ols", seed=0, register=True, alias="champion", tracking_uri=uri)
    return uri


@pytest.fixture(scope="module")
def population_files(small_population_dir) -> tuple[Path, Path]:
    return small_population_dir / "families.parquet", small_population_dir / "members.parquet"


@pytest.fixture(scope="module")
def ranked(tmp_path_factory, population_files, tracking_uri):
    """One uninterrupted run through the registry model, in several chunks."""
    fam, mem = population_files
    out = tmp_path_factory.mktemp("ranked")
    return rank_population(fam, mem, MODEL, out, chunk_size=CHUNK, progress=False, tracking_uri=tracking_uri)


def test_chunks_join_every_member_to_its_family(population_files):
    fam, mem = population_files
    families = pd.read_parquet(fam, columns=["family_id"])
    members = pd.read_parquet(mem, columns=["family_id"])
    seen: list[str] = []
    member_rows = 0
    for chunk in iter_population_chunks(fam, mem, chunk_size=333):
        f_ids = set(chunk.families.column("family_id").to_pylist())
        m_ids = chunk.members.column("family_id").to_pylist()
        assert set(m_ids) <= f_ids
        seen += chunk.families.column("family_id").to_pylist()
        member_rows += len(m_ids)
    assert seen == families["family_id"].tolist()
    assert member_rows == len(members)


def test_unsorted_input_fails_clearly(tmp_path, population_files):
    fam, mem = population_files
    families = pd.read_parquet(fam)
    shuffled = families.iloc[[1, 0, *range(2, len(families))]]
    shuffled.to_parquet(tmp_path / "families.parquet", index=False)
    with pytest.raises(UnsortedInputError, match="not sorted by family_id"):
        list(iter_population_chunks(tmp_path / "families.parquet", mem, chunk_size=100))


def test_national_ranking_balances_people_and_reconciles(ranked, population_files, tracking_uri):
    fam, _ = population_files
    families = pd.read_parquet(fam, columns=["family_id", "province_code"])
    ranking = pd.read_parquet(ranked.ranking_path)
    assert ranked.complete and ranked.chunks_total == -(-len(families) // CHUNK)
    assert ranking["family_id"].tolist() == families["family_id"].tolist()  # one row each, input order
    assert ranked.input_families == ranked.ranked_families + ranked.rejected_families == len(families)

    # Cut points balance people: each national desil holds 10 % of people (+-0.5 pp).
    people = ranking.groupby("desil")["people"].sum().reindex(range(1, 11), fill_value=0)
    share = people / people.sum()
    assert np.all(np.abs(share.to_numpy() - 0.1) <= 0.005), share.to_dict()
    cuts = weighted_cut_points(ranking["welfare"], ranking["people"])
    np.testing.assert_array_equal(cuts, ranked.cut_points)
    np.testing.assert_array_equal(assign_desil(ranking["welfare"], cuts), ranking["desil"].to_numpy())

    # The registered model's cut points were fitted on this very population: same deciles.
    use_tracking(tracking_uri)
    model = load_pmt(MODEL).model
    np.testing.assert_allclose(model.cut_points, ranked.cut_points, rtol=0, atol=1e-12)

    # Programs follow desil and exclusion rule; P(desil <= 4) agrees with the desil side of the line.
    for prog in programs():
        expected = (ranking["desil"] <= prog.max_desil) & ranking["exclusion_rule"].isna()
        assert (ranking[f"eligible_{prog.name}"] == expected).all()
    low, high = ranking["desil"] <= 4, ranking["desil"] > 4
    assert ranking.loc[low, "p_desil_le_4"].min() > 0.5
    assert ranking.loc[high, "p_desil_le_4"].max() <= 0.5

    # Summaries add up to the ranking.
    summary = ranked.out_dir / "summary"
    by_desil = pd.read_csv(summary / "desil_by_province.csv", dtype={"province_code": str})
    assert by_desil["families"].sum() == len(ranking) and by_desil["people"].sum() == ranking["people"].sum()
    assert len(by_desil) == 10 * ranking["province_code"].nunique()
    by_prog = pd.read_csv(summary / "programs_by_province.csv", dtype={"province_code": str})
    pkh = by_prog[by_prog["program"] == "PKH"]
    assert pkh["eligible_families"].sum() == ranking["eligible_PKH"].sum()
    assert json.loads((summary / "reconciliation.json").read_text())["families_reconcile"] is True

    # Logged to MLflow with the model version, fingerprint, cut points and plot.
    run = MlflowClient(tracking_uri).get_run(ranked.run_id)
    assert run.data.tags["model_version"] == ranked.model["model_version"] != "None"
    assert run.data.params["data_data_fingerprint"] == ranked.fingerprint["data_fingerprint"]
    assert run.data.metrics["cut_point_5"] == pytest.approx(ranked.cut_points[4])
    artifacts = {a.path for a in MlflowClient(tracking_uri).list_artifacts(ranked.run_id, "population")}
    assert "population/desil_by_province.png" in artifacts


def _rank_subprocess(fam: Path, mem: Path, out: Path, uri: str, chunk: int) -> subprocess.Popen:
    code = "from cli.population_commands import rank_population; rank_population()"
    args = [sys.executable, "-c", code, "--families", str(fam), "--members", str(mem), "--model", MODEL,
            "--out", str(out), "--chunk-size", str(chunk), "--no-progress", "--no-mlflow"]
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    return subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_restart_after_kill_loses_and_duplicates_nothing(tmp_path, population_files, tracking_uri, ranked):
    fam, mem = population_files
    out = tmp_path / "killed"
    chunk = 150  # 20 chunks: the kill lands while most are still to do
    proc = _rank_subprocess(fam, mem, out, tracking_uri, chunk)
    manifest = out / "chunks" / "manifest.json"
    deadline = time.monotonic() + 180
    finished: dict = {}
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.exists():
            try:
                finished = json.loads(manifest.read_text())["chunks"]
            except (json.JSONDecodeError, KeyError):
                finished = {}
            if finished:
                break
        time.sleep(0.02)
    assert proc.poll() is None, f"run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "ranking.parquet").exists()
    done_before = json.loads(manifest.read_text())["chunks"]
    assert 1 <= len(done_before) < 20

    # the killed run scored 2 chunks at a time (config/population.yaml); the restart scores one at a time
    result = rank_population(fam, mem, MODEL, out, chunk_size=chunk, progress=False, tracking_uri=tracking_uri,
                             log_to_mlflow=False, threads=1)
    assert result.chunks_reused == len(done_before)
    assert result.chunks_scored == result.chunks_total - len(done_before)
    ranking = pd.read_parquet(result.ranking_path)
    families = pd.read_parquet(fam, columns=["family_id"])
    assert ranking["family_id"].is_unique and len(ranking) == len(families)
    assert set(ranking["family_id"]) == set(families["family_id"])
    uninterrupted = pd.read_parquet(ranked.ranking_path)
    pd.testing.assert_frame_equal(ranking, uninterrupted)  # other chunk size and threads, same ranking
    assert list((out / "chunks").glob(".*tmp*")) == []


def test_rejects_reconcile(tmp_path, population_files, tracking_uri):
    fam, mem = population_files
    families = pd.read_parquet(fam)
    members = pd.read_parquet(mem)
    ids = families["family_id"]
    bad_province, bad_floor, bad_age, no_members = ids.iloc[5], ids.iloc[900], ids.iloc[1500], ids.iloc[2500]
    families.loc[families["family_id"] == bad_province, "province_code"] = "99"
    families.loc[families["family_id"] == bad_floor, "floor_material"] = 77
    members.loc[members["family_id"] == bad_age, "age"] = -4
    members = members[members["family_id"] != no_members]
    orphan = members[members["family_id"] == ids.iloc[10]].assign(family_id=ids.iloc[10] + "X")
    members = pd.concat([members, orphan]).sort_values(["family_id", "member_no"], kind="mergesort")
    families.to_parquet(tmp_path / "families.parquet", index=False)
    members.to_parquet(tmp_path / "members.parquet", index=False)

    result = rank_population(tmp_path / "families.parquet", tmp_path / "members.parquet", MODEL, tmp_path / "out",
                             chunk_size=CHUNK, progress=False, tracking_uri=tracking_uri, log_to_mlflow=False)
    ranking = pd.read_parquet(result.ranking_path)
    rejects = pd.read_parquet(result.rejects_path)
    bad = {bad_province, bad_floor, bad_age, no_members}
    from_families = rejects[rejects["source"] == "families"]
    assert set(from_families["family_id"]) == bad
    assert bad.isdisjoint(ranking["family_id"])
    assert len(ranking) + len(from_families) == len(families) == result.input_families
    assert result.rejected_families == len(bad)
    errors = from_families.set_index("family_id")["errors"]
    assert "province_code" in errors[bad_province] and "floor_material" in errors[bad_floor]
    assert "age" in errors[bad_age]
    orphans = rejects[rejects["source"] == "members"]
    assert orphans["family_id"].tolist() == [ids.iloc[10] + "X"]
    assert orphans["people"].sum() == result.orphan_member_rows == len(orphan)
    rec = json.loads((tmp_path / "out" / "summary" / "reconciliation.json").read_text())
    assert rec["families_reconcile"] and rec["members_reconcile"] and rec["members_rows_read"] == len(members)


def test_other_inputs_are_not_mixed_with_finished_chunks(tmp_path, population_files, tracking_uri, ranked):
    fam, mem = population_files
    families = pd.read_parquet(fam)
    families.iloc[:2000].to_parquet(tmp_path / "families.parquet", index=False)
    out = tmp_path / "out"
    rank_population(fam, mem, MODEL, out, chunk_size=CHUNK, progress=False, tracking_uri=tracking_uri,
                    log_to_mlflow=False, max_chunks=1)
    with pytest.raises(RuntimeError, match="another run"):
        rank_population(tmp_path / "families.parquet", mem, MODEL, out, chunk_size=CHUNK, progress=False,
                        tracking_uri=tracking_uri, log_to_mlflow=False)


def _current_ranking(previous: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    """A next-quarter ranking: some families gone, some new, desil moves, a new exclusion rule."""
    rng = np.random.default_rng(seed)
    curr = previous.drop(index=rng.choice(len(previous), 120, replace=False)).reset_index(drop=True)
    curr["desil"] = curr["desil"].astype(np.int64)
    moved = rng.random(len(curr)) < 0.3
    curr.loc[moved, "desil"] = np.clip(curr.loc[moved, "desil"] + rng.choice([-1, 1], moved.sum()), 1, 10)
    ruled = rng.random(len(curr)) < 0.02
    curr.loc[ruled, "exclusion_rule"] = "village_official"
    new = previous.sample(80, random_state=seed).assign(family_id=lambda d: d["family_id"] + "N")
    curr = pd.concat([curr, new], ignore_index=True)
    curr["desil"] = curr["desil"].astype(np.int8)
    return curr


def test_transitions_totals_equal_populations(tmp_path, ranked, tracking_uri):
    previous = pd.read_parquet(ranked.ranking_path)
    current = _current_ranking(previous)
    current.to_parquet(tmp_path / "current.parquet", index=False)
    out = tmp_path / "transitions"
    res = CliRunner().invoke(transitions_command, ["--previous", str(ranked.out_dir), "--current",
                                                   str(tmp_path / "current.parquet"), "--out", str(out),
                                                   "--tracking-uri", tracking_uri])
    assert res.exit_code == 0, res.output
    fam = pd.read_csv(out / "transition_families.csv", index_col=0)
    ppl = pd.read_csv(out / "transition_people.csv", index_col=0)
    both = previous["family_id"].isin(current["family_id"])
    new = ~current["family_id"].isin(previous["family_id"])
    assert fam.to_numpy().sum() == both.sum()
    assert fam.to_numpy().sum() + new.sum() == len(current)
    assert fam.to_numpy().sum() + (~both).sum() == len(previous)
    assert ppl.to_numpy().sum() + current.loc[new, "people"].sum() == current["people"].sum()
    national = pd.read_csv(out / "national_flows.csv")
    for prog in programs():
        row = national[national["program"] == prog.name].iloc[0]
        elig_prev = ((previous["desil"] <= prog.max_desil) & previous["exclusion_rule"].isna()).sum()
        elig_curr = ((current["desil"] <= prog.max_desil) & current["exclusion_rule"].isna()).sum()
        assert row["eligible_previous"] == elig_prev and row["eligible_current"] == elig_curr
        assert elig_prev + row["entering"] - row["leaving"] == elig_curr
    merged = previous.merge(current, on="family_id", suffixes=("_p", "_c"))
    graduated = ((merged["desil_p"] <= 4) & (merged["desil_c"] > 4)).sum()
    assert national.loc[national["program"] == "PKH", "graduations"].item() == graduated
    flows = pd.read_parquet(out / "flows.parquet")
    gone = flows[(flows["program"] == "PKH") & (flows["reason"] == "family_gone")]
    assert set(gone["family_id"]) <= set(previous["family_id"]) - set(current["family_id"])
    by_province = pd.read_csv(out / "flow_summary.csv", dtype={"province_code": str})
    assert by_province.groupby("program")["entering"].sum().to_dict() == national.set_index("program")[
        "entering"].to_dict()
    assert json.loads((out / "reconciliation.json").read_text())["reconciles"] is True
    runs = mlflow.search_runs(experiment_names=["dtsen-desil"], filter_string="tags.job = 'transitions'",
                              output_format="list")
    assert runs


def test_quota_cli_sums_exactly_and_follows_priority(tmp_path, ranked, tracking_uri):
    ranking = pd.read_parquet(ranked.ranking_path)
    rng = np.random.default_rng(5)
    recipients = ranking.loc[rng.random(len(ranking)) < 0.5, ["family_id", "province_code", "people"]]
    outside = pd.DataFrame({"family_id": ["OUT1", "OUT2"], "province_code": ["31", "32"], "people": [3, 2]})
    recipients = pd.concat([recipients, outside]).rename(columns={"province_code": "region"})
    recipients.to_csv(tmp_path / "recipients.csv", index=False)
    national_quota = int(ranking["people"].sum() * 0.4)
    out = tmp_path / "quota"
    res = CliRunner().invoke(quota_command, [
        "--program", "PBI-JK", "--national-quota", str(national_quota), "--poor-by-region", "bps-2024",
        "--ranking", str(ranked.out_dir), "--recipients", str(tmp_path / "recipients.csv"), "--out", str(out),
        "--tracking-uri", tracking_uri])
    assert res.exit_code == 0, res.output
    regions = pd.read_csv(out / "regions.csv", dtype={"region": str}).set_index("region")
    assert regions["quota"].sum() == national_quota
    poor = provinces()["poor_mar2024_thousands"].astype(float)
    exact = poor / poor.sum() * national_quota
    assert (np.abs(regions["quota"] - exact.reindex(regions.index)) < 1).all()
    totals = json.loads((out / "quota.json").read_text())
    assert totals["quota_sums_exactly"] and totals["unit"] == "people"

    removals = pd.read_csv(out / "removals.csv", dtype={"region": str, "family_id": str})
    fills = pd.read_csv(out / "fills.csv", dtype={"region": str, "family_id": str})
    over = regions.index[regions["current"] > regions["quota"]]
    assert set(removals["region"].dropna()) <= set(over)
    for _, row in outside.iterrows():  # recipients outside the ranking go first in an over-quota region
        removed = removals[removals["family_id"] == row["family_id"]]
        if row["province_code"] in over:
            assert removed[["tier", "order"]].values.tolist() == [[1, 1]]
        else:
            assert removed.empty
    for _, group in removals.groupby("region"):  # outside ranking, then desil 10..6, then rules
        assert group.sort_values("order")["tier"].is_monotonic_increasing
    assert (removals["tier"] != 2).all() or (removals.loc[removals["tier"] == 2, "desil"] > 5).all()
    ranked_info = ranking.set_index("family_id")
    assert (ranked_info.loc[fills["family_id"], "desil"] <= 5).all()
    assert ranked_info.loc[fills["family_id"], "exclusion_rule"].isna().all()
    assert set(fills["family_id"]).isdisjoint(recipients["family_id"])
    assert (regions["final"] <= regions["quota"]).where(regions["filled"] > 0, True).all()


def test_rank_population_cli(tmp_path, population_files, tracking_uri):
    fam, mem = population_files
    res = CliRunner().invoke(rank_command, ["--families", str(fam), "--members", str(mem), "--model", MODEL,
                                            "--out", str(tmp_path / "out"), "--chunk-size", "1000",
                                            "--no-progress", "--tracking-uri", tracking_uri])
    assert res.exit_code == 0, res.output
    assert "input 3,000 = ranked" in res.output
    assert (tmp_path / "out" / "ranking.parquet").exists()
