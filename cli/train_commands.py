"""`desil train pmt|cnn` and `desil compare`: thin wrappers over training/."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

console = Console()

HEADLINE_METRICS: tuple[str, ...] = (
    "holdout_r2", "holdout_spearman", "population_spearman", "desil_exact_accuracy", "desil_within1_accuracy",
    "exclusion_error_d4_family", "inclusion_error_d4_family", "exclusion_error_d4_person",
    "inclusion_error_d4_person", "exclusion_error_d5_family", "inclusion_error_d5_family", "train_seconds",
)


@click.group()
def train() -> None:
    """Train models and log them to MLflow."""


@train.command("pmt")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="population folder (families/members/survey[/truth].parquet)")
@click.option("--model", "kind", type=click.Choice(["ols", "lgbm"]), default="lgbm", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--register/--no-register", default=False, help="register as desil-pmt in the model registry")
@click.option("--alias", default=None, help="alias to point at the new version (champion, challenger)")
@click.option("--holdout-share", type=float, default=0.2, show_default=True,
              help="share of survey families held out for evaluation")
@click.option("--photos", "photos_manifest", type=click.Path(exists=True), default=None,
              help="photo manifest (or its folder): add house-cnn photo features to the PMT")
@click.option("--cnn-model", "cnn_ref", default="@champion", show_default=True,
              help="house-cnn version that classifies the photos (recorded in the PMT model)")
@click.option("--tracking-uri", default=None, help="MLflow tracking URI (default: env or embedded SQLite)")
def train_pmt_command(data_dir: str, kind: str, seed: int, register: bool, alias: str | None,
                      holdout_share: float, photos_manifest: str | None, cnn_ref: str,
                      tracking_uri: str | None) -> None:
    """Fit the OLS or LightGBM PMT on the survey sample, rank the population, evaluate and log."""
    from training.tracking import configure_tracking
    from training.train_pmt import train_pmt

    if alias and not register:
        raise click.UsageError("--alias needs --register")
    photo_features = photo_version = None
    if photos_manifest:
        from training.photo_scoring import photo_features_for_manifest

        configure_tracking(tracking_uri)
        with console.status(f"classifying photos with house-cnn {cnn_ref} ..."):
            photo_features, photo_version = photo_features_for_manifest(photos_manifest, cnn_ref)
        console.print(f"photo features for {len(photo_features):,} families from house-cnn version {photo_version}")
    with console.status(f"training {kind} PMT ..."):
        result = train_pmt(data_dir, kind, seed=seed, register=register, alias=alias,
                           tracking_uri=tracking_uri, holdout_share=holdout_share,
                           photo_features=photo_features, photo_model_version=photo_version)
    console.print(metrics_table({kind: result.metrics}, f"PMT {kind} (run {result.run_id})"))
    if result.registered_version:
        console.print(f"registered desil-pmt version {result.registered_version}" + (f" as @{alias}" if alias else ""))


def metrics_table(runs: dict[str, dict[str, float]], title: str) -> Table:
    """A rich table of headline metrics, one column per run."""
    table = Table(title=title)
    table.add_column("metric")
    for name in runs:
        table.add_column(name, justify="right")
    for metric in HEADLINE_METRICS:
        table.add_row(metric, *[f"{runs[n].get(metric, float('nan')):.4f}" for n in runs])
    return table


@click.command("compare")
@click.argument("model_a")
@click.argument("model_b")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="population folder both versions rank")
@click.option("--tracking-uri", default=None)
def compare(model_a: str, model_b: str, data_dir: str, tracking_uri: str | None) -> None:
    """Compare two desil-pmt versions (e.g. @champion @challenger, 1 2, or run ids) on one population."""
    from training.compare import compare_versions

    with console.status("ranking the population with both versions ..."):
        comp = compare_versions(model_a, model_b, data_dir, tracking_uri=tracking_uri)
    print_comparison(comp)


def print_comparison(comp) -> None:
    t = Table(title=f"metric deltas: B={comp.b.uri} minus A={comp.a.uri}")
    for col in ("metric", "A", "B", "delta"):
        t.add_column(col, justify="right" if col != "metric" else "left")
    for metric in HEADLINE_METRICS:
        if metric in comp.metric_deltas.index:
            row = comp.metric_deltas.loc[metric]
            t.add_row(metric, f"{row['a']:.4f}", f"{row['b']:.4f}", f"{row['delta']:+.4f}")
    console.print(t)
    lc = Table(title="program-line crossings (A -> B)")
    lc.add_column("line")
    for col in comp.line_crossings.columns:
        lc.add_column(col, justify="right")
    for line, row in comp.line_crossings.iterrows():
        lc.add_row(line, *[f"{int(v):,}" for v in row])
    console.print(lc)
    tm = Table(title="desil transitions, families (rows A, columns B)")
    tm.add_column("A\\B")
    for c in comp.transitions_families.columns:
        tm.add_column(str(c), justify="right")
    for d, row in comp.transitions_families.iterrows():
        tm.add_row(str(d), *[f"{int(v):,}" for v in row])
    console.print(tm)
    console.print(f"comparison logged to MLflow run {comp.run_id} (artifacts: comparison/report.html)")


def _attach_cnn_command() -> None:
    from cli.photo_commands import train_cnn

    train.add_command(train_cnn, "cnn")


_attach_cnn_command()
