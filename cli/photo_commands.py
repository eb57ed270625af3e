"""`desil data photos` (render synthetic house photos) and `desil train cnn` (train the house CNN):
thin wrappers over data.photos and training.train_cnn. Defaults come from config/cnn.yaml."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

console = Console()


@click.command("photos")
@click.option("--population", "population_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="population folder written by `desil data synth` (needs truth.parquet)")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="photo folder to write (images/ + manifest.parquet)")
@click.option("--share", type=float, default=None, help="share of families photographed [config: photos.share]")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--size", type=int, default=None, help="photo side in pixels [config: photos.size]")
@click.option("--workers", type=int, default=None, help="rendering processes [config: photos.workers]")
def photos(population_dir: str, out_dir: str, share: float | None, seed: int, size: int | None,
           workers: int | None) -> None:
    """Render a front (wall + roof) and a floor JPEG of the TRUE housing for a share of families."""
    import time

    from config.cnn import cnn_config
    from data.photos import render_photos

    cfg = cnn_config().photos
    start = time.perf_counter()
    manifest = render_photos(population_dir, out_dir, share=cfg.share if share is None else share, seed=seed,
                             size=size or cfg.size, workers=workers or cfg.workers,
                             jpeg_quality=(cfg.jpeg_quality_min, cfg.jpeg_quality_max), progress=True)
    seconds = time.perf_counter() - start
    console.print(f"{len(manifest)} photos of {manifest['family_id'].nunique()} families in {seconds:.1f} s "
                  f"({len(manifest) / max(seconds, 1e-9):.0f} photos/s) -> {out_dir}/manifest.parquet")


@click.command("cnn")
@click.option("--photos", "manifest", required=True, type=click.Path(exists=True),
              help="photo manifest (manifest.parquet/.csv) or the folder holding it")
@click.option("--arch", default=None, help="torchvision architecture [config: model.arch]")
@click.option("--epochs", type=int, default=None, help="[config: training.epochs]")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--seed", type=int, default=None, help="[config: training.seed]")
@click.option("--batch-size", type=int, default=None, help="[config: training.batch_size]")
@click.option("--image-size", type=int, default=None, help="network input side in pixels [config: model.image_size]")
@click.option("--weights", "weights_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="local torchvision state_dict to initialise the backbone (nothing is downloaded)")
@click.option("--register/--no-register", default=True, show_default=True, help="register as house-cnn")
@click.option("--alias", default=None, help="alias to point at the new version (champion, challenger)")
@click.option("--tracking-uri", default=None, help="MLflow tracking URI (default: env or embedded SQLite)")
def train_cnn(manifest: str, arch: str | None, epochs: int | None, device: str, seed: int | None,
              batch_size: int | None, image_size: int | None, weights_path: str | None, register: bool,
              alias: str | None, tracking_uri: str | None) -> None:
    """Train the house-photo CNN, log to MLflow and register it as house-cnn."""
    from training.train_cnn import train_cnn as run

    if alias and not register:
        raise click.UsageError("--alias needs --register")
    result = run(manifest, arch=arch, epochs=epochs, device=device, seed=seed, batch_size=batch_size,
                 image_size=image_size, tracking_uri=tracking_uri, register=register, alias=alias,
                 weights_path=weights_path)
    table = Table(title=f"house-cnn (run {result['run_id']}, {result['device']})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in sorted(result["metrics"].items()):
        table.add_row(name, f"{value:.4f}")
    console.print(table)
    if result["registered_version"]:
        console.print(f"registered house-cnn version {result['registered_version']}" + (f" as @{alias}" if alias else ""))
