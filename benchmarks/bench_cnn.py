"""Benchmark: house-CNN inference throughput (images/s) at batch 1 and batch 64, on CPU and, when torch
sees a GPU, on CUDA (fp16 autocast). Default: the config's architecture at 128 px, untrained weights
(throughput does not depend on the weight values). `--with-decode` also times JPEG decoding and the
shared preprocessing (models.house_cnn.preprocess) on rendered synthetic photos.

    .venv/bin/python benchmarks/bench_cnn.py [--arch mobilenet_v3_small] [--size 128] [--threads N]
"""

from __future__ import annotations

import io
import os
import time

import click
import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from config.cnn import cnn_config
from models.house_cnn import HouseCNN, preprocess


def images_per_second(model: HouseCNN, batch: int, size: int, device: torch.device, seconds: float) -> float:
    """Forward passes on random input for about `seconds` after a warm-up; returns images/s."""
    x = torch.randn(batch, 3, size, size, device=device)
    amp = device.type == "cuda"
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.float16, enabled=amp):
        for _ in range(3):
            model(x)
        if amp:
            torch.cuda.synchronize()
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            model(x)
            n += batch
        if amp:
            torch.cuda.synchronize()
    return n / (time.perf_counter() - start)


def decode_rate(size: int, count: int = 256) -> float:
    """JPEG bytes -> preprocessed batch, images/s (rendered synthetic photos)."""
    from data.photo_scenes import render_front

    blobs = []
    for i in range(count):
        buf = io.BytesIO()
        render_front(np.random.default_rng([9, i]), size, "masonry", "zinc", True).save(buf, format="JPEG", quality=80)
        blobs.append(buf.getvalue())
    start = time.perf_counter()
    preprocess(blobs, size)
    return count / (time.perf_counter() - start)


@click.command()
@click.option("--arch", default=None, help="torchvision architecture [config: model.arch]")
@click.option("--size", type=int, default=128, show_default=True, help="input side in pixels")
@click.option("--threads", type=int, default=None, help="torch CPU threads (default: os.cpu_count())")
@click.option("--seconds", type=float, default=3.0, show_default=True, help="timed seconds per case")
@click.option("--with-decode/--no-decode", default=True, show_default=True)
def main(arch: str | None, size: int, threads: int | None, seconds: float, with_decode: bool) -> None:
    arch = arch or cnn_config().model.arch
    torch.set_num_threads(threads or os.cpu_count() or 1)
    torch.manual_seed(0)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    table = Table(title=f"house-cnn inference, {arch}, {size} px, {torch.get_num_threads()} CPU threads")
    for col in ("device", "batch", "images/s"):
        table.add_column(col, justify="right")
    for device in devices:
        model = HouseCNN(arch).to(device).eval()
        if device.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        name = torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu"
        for batch in (1, 64):
            table.add_row(name, str(batch), f"{images_per_second(model, batch, size, device, seconds):,.0f}")
    if with_decode:
        table.add_row("cpu (JPEG decode + preprocess)", "256", f"{decode_rate(size):,.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
