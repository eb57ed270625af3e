"""`desil rank-population`, `desil transitions`, `desil quota`: thin wrappers over serving/'s
population batch jobs (serving/population.py, population_transitions.py, population_quota.py)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

console = Console()


@click.command("rank-population")
@click.option("--families", required=True, type=click.Path(exists=True, dir_okay=False),
              help="families.parquet, sorted by family_id")
@click.option("--members", required=True, type=click.Path(exists=True, dir_okay=False),
              help="members.parquet, sorted by family_id (then member_no)")
@click.option("--model", "model_ref", default="models:/desil-pmt@champion", show_default=True,
              help="registered PMT model: models:/NAME@ALIAS, models:/NAME/VERSION, @ALIAS, VERSION, runs:/...")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="output folder (ranking.parquet, rejects.parquet, summary/, chunks/)")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None,
              help="families per chunk (memory grows with it; default: config/population.yaml)")
@click.option("--threads", type=click.IntRange(min=1, max=64), default=None,
              help="chunks scored at once (default: config/population.yaml score_threads)")
@click.option("--max-chunks", type=click.IntRange(min=0), default=None,
              help="score at most this many new chunks, then stop (run again to go on)")
@click.option("--fresh", is_flag=True, help="discard finished chunks of an earlier run in --out")
@click.option("--tracking-uri", default=None, help="MLflow tracking URI (default: env or embedded SQLite)")
@click.option("--no-mlflow", is_flag=True, help="do not log the run to MLflow (the model is still loaded from it)")
@click.option("--progress/--no-progress", default=True, show_default=True)
def rank_population(families: str, members: str, model_ref: str, out_dir: str, chunk_size: int | None,
                    threads: int | None, max_chunks: int | None, fresh: bool, tracking_uri: str | None, no_mlflow: bool,
                    progress: bool) -> None:
    """Rank a whole population into national deciles, restartably, in bounded memory."""
    from serving.population import rank_population as run

    result = run(families, members, model_ref, out_dir, chunk_size=chunk_size, progress=progress,
                 tracking_uri=tracking_uri, log_to_mlflow=not no_mlflow, fresh=fresh, max_chunks=max_chunks,
                 threads=threads)
    if not result.complete:
        console.print(f"stopped after {result.chunks_scored} new chunk(s) ({result.chunks_reused} reused); "
                      "run the same command again to continue")
        return
    table = Table(title=f"rank-population -> {result.out_dir}")
    table.add_column("item")
    table.add_column("value", justify="right")
    rows = [("model", f"{result.model.get('model_name')} v{result.model.get('model_version')}"),
            ("input families", f"{result.input_families:,}"), ("ranked families", f"{result.ranked_families:,}"),
            ("rejected families", f"{result.rejected_families:,}"), ("ranked people", f"{result.ranked_people:,}"),
            ("orphan member rows", f"{result.orphan_member_rows:,}"),
            ("chunks (reused)", f"{result.chunks_total} ({result.chunks_reused})"),
            ("cut points", " ".join(f"{c:.3f}" for c in result.cut_points)),
            ("seconds", f"{result.seconds.get('total', 0.0):.1f}")]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"input {result.input_families:,} = ranked {result.ranked_families:,} + rejected "
                  f"{result.rejected_families:,}" + (f"; MLflow run {result.run_id}" if result.run_id else ""))


@click.command("transitions")
@click.option("--previous", required=True, type=click.Path(exists=True), help="previous ranking folder or file")
@click.option("--current", required=True, type=click.Path(exists=True), help="current ranking folder or file")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="output folder (default: <current ranking folder>/transitions)")
@click.option("--tracking-uri", default=None, help="MLflow tracking URI (default: env or embedded SQLite)")
@click.option("--no-mlflow", is_flag=True, help="do not log to MLflow")
def transitions(previous: str, current: str, out_dir: str | None, tracking_uri: str | None, no_mlflow: bool) -> None:
    """Decile transitions and program entries/exits (with reasons) between two rankings."""
    from serving.population_transitions import ranking_file, run_transitions

    out = Path(out_dir) if out_dir else ranking_file(current).parent / "transitions"
    result = run_transitions(previous, current, out, tracking_uri=tracking_uri, log_to_mlflow=not no_mlflow)
    rec = result.reconciliation
    console.print(f"families: previous {rec['previous_families']:,}, current {rec['current_families']:,}, "
                  f"in both {rec['in_both']:,}, new {rec['new_families']:,}, gone {rec['gone_families']:,}")
    table = Table(title="program flows (families)")
    for col in ("program", "eligible_previous", "entering", "leaving", "eligible_current", "graduations"):
        table.add_column(col, justify="right")
    for _, row in result.national.iterrows():
        table.add_row(str(row["program"]), *[f"{int(row[c]):,}" for c in
                                             ("eligible_previous", "entering", "leaving", "eligible_current",
                                              "graduations")])
    console.print(table)
    console.print(f"written to {out}" + (f"; MLflow run {result.run_id}" if result.run_id else ""))


@click.command("quota")
@click.option("--program", required=True, help="program name from config/programs.yaml (PKH, Sembako, PBI-JK, ...)")
@click.option("--national-quota", type=click.IntRange(min=0), default=None,
              help="national quota in the program's unit (default: the configured quota)")
@click.option("--poor-by-region", "poor_source", default="bps-2024", show_default=True,
              help="'bps-2024' (BPS March 2024 poor per province) or a CSV/Parquet with columns region, poor")
@click.option("--ranking", required=True, type=click.Path(exists=True), help="ranking folder or ranking.parquet")
@click.option("--recipients", default=None, type=click.Path(exists=True, dir_okay=False),
              help="current recipients: family_id [, region, people]")
@click.option("--waiting-list", default=None, type=click.Path(exists=True, dir_okay=False),
              help="waiting list approved by the regional head: family_id, region")
@click.option("--ground-checked", default=None, type=click.Path(exists=True, dir_okay=False),
              help="families already ground-checked: family_id")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="output folder (default: <ranking folder>/quota-<program>)")
@click.option("--tracking-uri", default=None, help="MLflow tracking URI (default: env or embedded SQLite)")
@click.option("--no-mlflow", is_flag=True, help="do not log to MLflow")
def quota(program: str, national_quota: int | None, poor_source: str, ranking: str, recipients: str | None,
          waiting_list: str | None, ground_checked: str | None, out_dir: str | None, tracking_uri: str | None,
          no_mlflow: bool) -> None:
    """Regional quotas (largest remainder, summing exactly) with removal and fill lists."""
    from serving.population_quota import run_quota
    from serving.population_transitions import ranking_file

    out = Path(out_dir) if out_dir else ranking_file(ranking).parent / f"quota-{program}"
    run = run_quota(program, ranking, poor_source, national_quota=national_quota, recipients=recipients,
                    waiting_list=waiting_list, ground_checked=ground_checked, out_dir=out,
                    tracking_uri=tracking_uri, log_to_mlflow=not no_mlflow)
    t = run.totals
    console.print(f"{t['program']}: national quota {t['national_quota']:,} {t['unit']} over {t['regions']} regions "
                  f"(sum of regional quotas {t['quota_sum']:,}: {'exact' if t['quota_sums_exactly'] else 'MISMATCH'})")
    console.print(f"current {t['current']:,}, removed {t['removed']:,} ({t['removed_families']:,} families), "
                  f"filled {t['filled']:,} ({t['filled_families']:,} families), final {t['final']:,}; "
                  f"still under quota {t['under_after']:,}, over {t['over_after']:,}")
    console.print(f"written to {out}" + (f"; MLflow run {run.run_id}" if run.run_id else ""))
