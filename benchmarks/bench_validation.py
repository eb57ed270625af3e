"""Benchmark: validate N families (default 1,000,000) and their members with features.validation.

Input: the generator's population when `data.synth` is importable and --source=synth, otherwise the
schema's example family tiled N times with unique family ids (members ~3 per family). A fraction
`--bad-rate` of families gets one out-of-range member age, so that the message path is timed too.
Prints seconds, families/s and rows/s (families + members) and peak RSS.

    .venv/bin/python benchmarks/bench_validation.py --families 1000000
"""

from __future__ import annotations

import time

import click
import numpy as np
import pandas as pd
import psutil
from rich.console import Console

from features import schema
from features.json_schema import example_family
from features.validation import family_json_frames, validate_population


def tiled_population(n_families: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`n_families` copies of the example family with ids B000000001..., members in storage dtypes."""
    families, members, _ = family_json_frames(example_family("B"))
    families = schema.coerce_dtypes(families, "families")
    members = schema.coerce_dtypes(members, "members")
    ids = pd.Series(np.char.add("B", np.char.zfill(np.arange(n_families).astype(str), 9)), dtype="string")
    fam = families.loc[np.zeros(n_families, dtype=np.int64)].reset_index(drop=True)
    fam["family_id"] = ids
    per = len(members)
    mem = members.loc[np.tile(np.arange(per), n_families)].reset_index(drop=True)
    mem["family_id"] = ids.repeat(per).reset_index(drop=True)
    return fam, mem


def synth_population(n_families: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from data.synth import generate_population

    pop = generate_population(n_families, seed=seed)
    return pop.families, pop.members


@click.command()
@click.option("--families", "n_families", default=1_000_000, show_default=True, help="families to validate")
@click.option("--source", type=click.Choice(["tiled", "synth"]), default="tiled", show_default=True)
@click.option("--bad-rate", default=0.001, show_default=True, help="share of families made invalid")
@click.option("--seed", default=0, show_default=True)
def main(n_families: int, source: str, bad_rate: float, seed: int) -> None:
    console = Console()
    t0 = time.perf_counter()
    with console.status(f"building {n_families:,} families ({source})"):
        fam, mem = synth_population(n_families, seed) if source == "synth" else tiled_population(n_families)
        rng = np.random.default_rng(seed)
        bad_fams = rng.choice(fam["family_id"].to_numpy(), size=int(bad_rate * n_families), replace=False)
        bad_rows = mem.index[mem["family_id"].isin(bad_fams) & (mem["member_no"] == 1)]
        mem.loc[bad_rows, "age"] = 150
    console.print(f"input: {len(fam):,} families, {len(mem):,} members, {len(bad_fams):,} made invalid "
                  f"(built in {time.perf_counter() - t0:.1f} s)")
    with console.status("validating"):
        t1 = time.perf_counter()
        result = validate_population(fam, mem)
        seconds = time.perf_counter() - t1
    rows = len(fam) + len(mem)
    rss = psutil.Process().memory_info().rss / 2**30
    console.print(f"validated in {seconds:.2f} s: {len(fam) / seconds:,.0f} families/s, {rows / seconds:,.0f} rows/s; "
                  f"valid families {len(result.valid_families):,}, rejected {len(result.rejected_family_ids):,}, "
                  f"problems {len(result.problems):,}; RSS now {rss:.2f} GiB")
    if len(result.rejected_family_ids) != len(bad_fams):
        raise SystemExit(f"expected {len(bad_fams)} rejected families, got {len(result.rejected_family_ids)}")


if __name__ == "__main__":
    main()
