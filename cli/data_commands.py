"""`desil data ...`: generate a synthetic population and summarise a population folder."""

from __future__ import annotations

import time
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.table import Table


def print_summary(summary: pd.DataFrame, console: Console | None = None) -> None:
    """Print a data.summary.population_summary table with rich (verdicts coloured)."""
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=150)
    table = Table(
        title="Synthetic population vs BPS reference (March 2024)",
        caption="share/poverty checked for provinces with >= 1% of people ('-': not checked); tolerances in "
        "config/synth.yaml",
    )
    for name, justify in (
        ("code", "left"), ("name", "left"), ("families", "right"), ("people", "right"), ("size", "right"),
        ("people %", "right"), ("ref %", "right"), ("poverty %", "right"), ("ref %", "right"),
        ("of poor %", "right"), ("ref %", "right"), ("verdict", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)
    for row in summary.itertuples(index=False):
        style = None if not row.checked else ("green" if row.ok else "bold red")
        if row.code in ("JAVA", "ID"):
            table.add_section()
        table.add_row(
            row.code, row.name, f"{row.families:,}", f"{row.people:,}", f"{row.mean_family_size:.2f}",
            f"{row.people_share_pct:.2f}", f"{row.ref_people_share_pct:.2f}",
            f"{row.poverty_rate_pct:.2f}", f"{row.ref_poverty_rate_pct:.2f}",
            f"{row.poor_share_pct:.2f}", f"{row.ref_poor_share_pct:.2f}",
            f"[{style}]{row.verdict}[/{style}]" if style else "-",
        )
    console.print(table)


@click.group()
def data() -> None:
    """Synthetic populations: generate (synth) and summarise (summary)."""


@data.command()
@click.option("--families", "n_families", type=click.IntRange(min=1), required=True,
              help="Number of families to generate (e.g. 1000000).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random seed; the same seed and config give the same files.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder for families/members/truth/survey .parquet and manifest.json.")
@click.option("--survey-share", type=click.FloatRange(min=0, max=1, min_open=True), default=None,
              help="Share of families in the SUSENAS-like survey sample (default from config/synth.yaml, 0.01).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None,
              help="Families per written Parquet row group (memory bound); does not change the data.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def synth(n_families: int, seed: int, out_dir: Path, survey_share: float | None, chunk_size: int | None,
          no_progress: bool) -> None:
    """Generate a synthetic DTSEN population and print its summary against the BPS reference.

    Writes families.parquet, members.parquet, truth.parquet (true welfare and desil: for evaluation
    only, never a model input), survey.parquet (observed log_pcexp and survey_weight for a sample)
    and manifest.json (seed, sizes, config, fingerprints) to OUT.
    """
    from config.synth import synth_config
    from data.summary import population_summary
    from data.synth import write_population

    config = synth_config()
    if survey_share is not None:
        config = config.model_copy(update={"survey": config.survey.model_copy(update={"share": survey_share})})
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    start = time.perf_counter()
    manifest = write_population(n_families, seed, out_dir, config=config, chunk_size=chunk_size,
                                progress=not no_progress)
    elapsed = time.perf_counter() - start
    console.print(
        f"wrote {manifest['n_families']:,} families, {manifest['n_people']:,} people, "
        f"{manifest['n_survey']:,} surveyed to {out_dir} in {elapsed:.1f} s "
        f"(fingerprint {manifest['fingerprint']['data_fingerprint']})"
    )
    print_summary(population_summary(out_dir, config.tolerances), console)


@data.command()
@click.option("--population", "population_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True, help="Folder written by `desil data synth`.")
def summary(population_dir: Path) -> None:
    """Print the summary of an existing population folder against the BPS reference table."""
    from data.summary import population_summary

    print_summary(population_summary(population_dir))


def _attach_photo_command() -> None:
    from cli.photo_commands import photos

    data.add_command(photos, "photos")


_attach_photo_command()
