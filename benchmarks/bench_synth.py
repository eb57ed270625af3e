"""Benchmark: stream a synthetic population of N families to Parquet (data.synth.write_population).

The generation runs in a child process so that its peak RSS (resource.getrusage ru_maxrss of the
child, plus a psutil sampler of the child's current RSS) is not inflated by this process. Prints
seconds, families/s, people/s, peak RSS and the output size; --keep leaves the files.

    .venv/bin/python benchmarks/bench_synth.py --families 1000000
    nice .venv/bin/python benchmarks/bench_synth.py --families 10000000 --out /tmp/pop10m
"""

from __future__ import annotations

import json
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import click
import psutil
from rich.console import Console


def _generate(n_families: int, seed: int, out_dir: str, chunk_size: int | None, queue: mp.Queue) -> None:
    """Child process: sample own RSS every 0.2 s while writing the population; report the numbers."""
    from data.synth import write_population

    proc = psutil.Process()
    peak = {"rss": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["rss"] = max(peak["rss"], proc.memory_info().rss)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    manifest = write_population(n_families, seed, out_dir, chunk_size=chunk_size, progress=True)
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    queue.put(
        {
            "seconds": seconds,
            "n_families": manifest["n_families"],
            "n_people": manifest["n_people"],
            "peak_rss_sampled_bytes": peak["rss"],
            "ru_maxrss_bytes": maxrss_kib * 1024,
        }
    )


@click.command()
@click.option("--families", "n_families", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="families to generate")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--chunk-size", type=click.IntRange(min=1), default=None, help="families per row group")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="output folder (default: a temporary folder, removed unless --keep)")
@click.option("--keep", is_flag=True, help="keep the generated files")
def main(n_families: int, seed: int, chunk_size: int | None, out_dir: Path | None, keep: bool) -> None:
    console = Console()
    tmp = None
    if out_dir is None:
        tmp = tempfile.mkdtemp(prefix="bench_synth_")
        out_dir = Path(tmp)
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    child = ctx.Process(target=_generate, args=(n_families, seed, str(out_dir), chunk_size, queue))
    child.start()
    result = queue.get()
    child.join()
    if child.exitcode != 0:
        sys.exit(f"generator process failed with exit code {child.exitcode}")
    size = sum(p.stat().st_size for p in out_dir.glob("*.parquet"))
    result.update(
        families_per_s=result["n_families"] / result["seconds"],
        people_per_s=result["n_people"] / result["seconds"],
        output_bytes=size,
    )
    console.print(
        f"{result['n_families']:,} families / {result['n_people']:,} people in {result['seconds']:.1f} s: "
        f"{result['families_per_s']:,.0f} families/s, {result['people_per_s']:,.0f} people/s; "
        f"peak RSS {result['ru_maxrss_bytes'] / 2**30:.2f} GiB (ru_maxrss), "
        f"{result['peak_rss_sampled_bytes'] / 2**30:.2f} GiB (sampled); Parquet {size / 2**20:,.0f} MiB"
    )
    console.print_json(json.dumps(result))
    if tmp is not None and not keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
