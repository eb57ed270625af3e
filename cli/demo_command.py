"""`desil demo`: the README's main job, end to end on the embedded default (SQLite MLflow store,
local artifacts, synthetic data): generate a population, train the OLS baseline and the LightGBM
PMT, register both (LightGBM as `champion`, OLS as `baseline`), compare them and print the
headline table, then start the BentoML service and score a sample batch over HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console

console = Console()


@click.command("demo")
@click.option("--families", type=int, default=200_000, show_default=True, help="synthetic families to generate")
@click.option("--seed", type=int, default=20250203, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="runs/demo", show_default=True)
@click.option("--tracking-uri", default=None, help="MLflow tracking URI (default: env or embedded SQLite)")
def demo(families: int, seed: int, out_dir: str, tracking_uri: str | None) -> None:
    """Generate -> train OLS and LightGBM -> register (LightGBM @champion) -> compare -> headline table, then start the BentoML service and score a sample batch over HTTP."""
    from cli.demo_http import score_sample_over_http
    from cli.train_commands import metrics_table, print_comparison
    from data.synth import write_population
    from training.compare import compare_versions
    from training.tracking import configure_tracking
    from training.train_pmt import train_pmt

    t0 = time.perf_counter()
    out = Path(out_dir)
    population = out / "population"
    uri = configure_tracking(tracking_uri)
    console.rule(f"1/5 synthetic population: {families:,} families, seed {seed}")
    write_population(families, seed=seed, out_dir=population, progress=True)

    console.rule("2/5 OLS baseline (registered as desil-pmt @baseline)")
    ols = train_pmt(population, "ols", seed=seed, register=True, alias="baseline", tracking_uri=uri)
    console.rule("3/5 LightGBM PMT (registered as desil-pmt @champion)")
    lgbm = train_pmt(population, "lgbm", seed=seed, register=True, alias="champion", tracking_uri=uri)
    console.print(metrics_table({"ols": ols.metrics, "lgbm": lgbm.metrics}, "Headline: OLS vs LightGBM"))

    console.rule("4/5 compare @baseline (A) with @champion (B)")
    comp = compare_versions("@baseline", "@champion", population, tracking_uri=uri)
    print_comparison(comp)

    console.rule("5/5 serve @champion with BentoML and score a sample batch over HTTP")
    score_sample_over_http(population, uri, out, console)
    console.print(f"done in {time.perf_counter() - t0:,.0f} s. MLflow UI: "
                  f"[bold]mlflow ui --backend-store-uri {uri}[/bold] then open http://127.0.0.1:5000")
