"""Train the house-photo CNN on a photo manifest, evaluate it on held-out families, log everything to
MLflow and (optionally) register it as `house-cnn` (project config cnn_model_name) with an alias.

Works on CPU (CI) and on CUDA (mixed precision). Defaults come from config/cnn.yaml.
"""

from __future__ import annotations

import base64
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import torch
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, Schema

from config import project_config
from config.cnn import cnn_config
from data.fingerprint import file_fingerprint
from data.photos import manifest_file, read_manifest
from features.photo_features import HEAD_CLASSES
from models.house_cnn import IGNORE, HouseCNN, masked_loss, normalise, recalibrate_batchnorm
from models.house_cnn_pyfunc import META_ARTIFACT, WEIGHTS_ARTIFACT, HouseCnnPyfunc, classify_frame
from training import plots
from training.cnn_data import PhotoTensors, decode_photos, split_by_family
from training.cnn_report import (
    confusion_figure,
    confusion_frames,
    head_metrics,
    misclassified_grid,
    misclassified_rows,
)
from training.tracking import configure_tracking, lineage_tags

PIP_REQUIREMENTS_FILE = Path(__file__).resolve().parent.parent / "requirements.lock"
MODEL_CODE_PATHS = ("features", "models", "config")
EVAL_BATCH = 256
BN_CALIBRATION_IMAGES = 2048  # training photos whose exact BatchNorm statistics the final model uses


def resolve_device(device: str) -> torch.device:
    """'auto' -> cuda when available else cpu; 'cuda' without a GPU is an error."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device={device!r}; allowed 'auto', 'cpu' or 'cuda'")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' but torch sees no CUDA GPU; use --device auto or cpu")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def seed_everything(seed: int) -> None:
    """Seeded and deterministic torch (same seed, same device -> same weights)."""
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def augment(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """uint8 batch -> normalised float batch with random flips, shifts (reflect pad 1/16) and exposure."""
    n, _, h, w = batch.shape
    x = normalise(batch)
    flip = torch.rand(n, generator=gen, device="cpu") < 0.5
    x[flip.to(x.device)] = x[flip.to(x.device)].flip(-1)
    pad = max(1, h // 16)
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad), mode="reflect")
    dy, dx = torch.randint(0, 2 * pad + 1, (2,), generator=gen).tolist()
    x = padded[:, :, dy:dy + h, dx:dx + w]
    gain = (0.8 + 0.4 * torch.rand(n, 1, 1, 1, generator=gen)).to(x.device)
    return x * gain


def _evaluate(model: HouseCNN, images: torch.Tensor, device: torch.device, amp: bool) -> dict[str, np.ndarray]:
    model.eval()
    chunks: dict[str, list[np.ndarray]] = {h: [] for h in model.head_classes}
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.float16, enabled=amp):
        for start in range(0, len(images), EVAL_BATCH):
            x = normalise(images[start:start + EVAL_BATCH].to(device, non_blocking=True))
            for head, logits in model(x).items():
                chunks[head].append(torch.softmax(logits.float(), 1).cpu().numpy())
    return {h: np.concatenate(c) if c else np.zeros((0, len(model.head_classes[h]))) for h, c in chunks.items()}


def _calibrate(model: HouseCNN, data: PhotoTensors, rows: torch.Tensor, gen: torch.Generator, batch_size: int,
               device: torch.device, amp: bool) -> None:
    calib = rows[torch.randperm(len(rows), generator=gen)[:BN_CALIBRATION_IMAGES]]
    chunks = [calib[i:i + batch_size] for i in range(0, len(calib), batch_size)]
    with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
        recalibrate_batchnorm(model, (normalise(data.images[c].to(device)) for c in chunks if len(c) > 1))


def epoch_accuracy(model: HouseCNN, data: PhotoTensors, val_rows: np.ndarray, device: torch.device,
                   amp: bool) -> dict[str, float]:
    """Held-out accuracy per head (rows labelled for that head)."""
    idx = torch.from_numpy(val_rows)
    probs = _evaluate(model, data.images[idx], device, amp)
    out = {}
    for head, p in probs.items():
        target = data.targets[head][idx].numpy()
        present = target != IGNORE
        if present.any():
            out[head] = float((p[present].argmax(axis=1) == target[present]).mean())
    return out


def fit(model: HouseCNN, data: PhotoTensors, train_rows: np.ndarray, device: torch.device, epochs: int,
        batch_size: int, learning_rate: float, weight_decay: float, seed: int,
        progress: bool = True, val_rows: np.ndarray | None = None) -> dict[str, Any]:
    """AdamW + one-cycle over `epochs`; masked multi-head loss; AMP on CUDA. After each epoch the BatchNorm
    statistics are recomputed on training photos and, with `val_rows`, held-out accuracy is logged per epoch.
    Returns timings and losses (train_seconds include the per-epoch evaluation)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    amp = device.type == "cuda"
    model.to(device)
    if amp:
        model.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    steps_per_epoch = max(1, int(np.ceil(len(train_rows) / batch_size)))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=learning_rate, total_steps=epochs * steps_per_epoch,
                                                pct_start=0.2)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    gen = torch.Generator().manual_seed(seed)
    rows = torch.from_numpy(train_rows)
    losses: list[float] = []
    seen, eval_seconds = 0, 0.0
    start = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  TextColumn("loss {task.fields[loss]:.3f}"), disable=not progress) as bar:
        job = bar.add_task("training", total=epochs * steps_per_epoch, loss=float("nan"))
        for epoch in range(epochs):
            model.train()
            order = rows[torch.randperm(len(rows), generator=gen)]
            total, count = 0.0, 0
            for b in range(steps_per_epoch):
                idx = order[b * batch_size:(b + 1) * batch_size]
                if len(idx) < 2:  # BatchNorm needs two samples
                    continue
                x = augment(data.images[idx].to(device, non_blocking=True), gen)
                if amp:
                    x = x.contiguous(memory_format=torch.channels_last)
                targets = {h: t[idx].to(device) for h, t in data.targets.items()}
                with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
                    loss = masked_loss(model(x), targets)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                sched.step()
                total += float(loss.detach()) * len(idx)
                count += len(idx)
                seen += len(idx)
                bar.update(job, advance=1, loss=total / max(count, 1))
            losses.append(total / max(count, 1))
            mlflow.log_metric("train_loss", losses[-1], step=epoch)
            eval_start = time.perf_counter()
            _calibrate(model, data, rows, gen, batch_size, device, amp)
            if val_rows is not None and len(val_rows):
                accuracy = epoch_accuracy(model, data, val_rows, device, amp)
                mlflow.log_metrics({f"epoch_val_accuracy_{h}": a for h, a in accuracy.items()}, step=epoch)
                bar.console.print(f"epoch {epoch + 1}/{epochs}: train loss {losses[-1]:.3f}, held-out accuracy "
                                  + ", ".join(f"{h} {a:.3f}" for h, a in accuracy.items()), highlight=False)
            eval_seconds += time.perf_counter() - eval_start
    seconds = time.perf_counter() - start
    return {"train_loss": losses, "fit_seconds": seconds, "epoch_eval_seconds": eval_seconds,
            "train_images_per_s": seen / max(seconds - eval_seconds, 1e-9), "amp": amp}


def input_example(image_size: int) -> pd.DataFrame:
    """A synthetic input example (rendered photos, never real people): base64 JPEG + family_id + kind."""
    from data.photo_scenes import render_floor, render_front

    rows = []
    for i, (kind, img) in enumerate([("front", render_front(np.random.default_rng([0, 1]), image_size, "wood",
                                                            "zinc", True)),
                                     ("floor", render_floor(np.random.default_rng([0, 2]), image_size, "cement"))]):
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=85)
        rows.append({"family_id": f"EXAMPLE{i:03d}", "kind": kind,
                     "image_base64": base64.b64encode(buf.getvalue()).decode("ascii")})
    return pd.DataFrame(rows)


def _signature(inputs: Schema, example: pd.DataFrame, output: pd.DataFrame):
    """Signature: optional image_path / image_base64 / family_id / kind strings in; probabilities + labels out."""
    from mlflow.models import ModelSignature

    return ModelSignature(inputs=inputs, outputs=infer_signature(example, output).outputs)


def log_cnn_model(model: HouseCNN, meta: dict[str, Any], registered_name: str | None):
    """Log the pyfunc (weights + meta artifacts, code, signature, synthetic input example)."""
    model = model.to("cpu").to(memory_format=torch.contiguous_format).eval()
    example = input_example(int(meta["image_size"]))
    output = classify_frame(model, int(meta["image_size"]), example)
    inputs = Schema([ColSpec("string", c, required=False) for c in ("image_path", "image_base64", "family_id", "kind")])
    signature = _signature(inputs, example, output)
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "house_cnn.pt"
        torch.save(model.state_dict(), weights)
        meta_path = Path(tmp) / "house_cnn_meta.json"
        meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return mlflow.pyfunc.log_model(
            name="model", python_model=HouseCnnPyfunc(),
            artifacts={WEIGHTS_ARTIFACT: str(weights), META_ARTIFACT: str(meta_path)},
            code_paths=[str(root / p) for p in MODEL_CODE_PATHS],
            signature=signature, input_example=example, pip_requirements=str(PIP_REQUIREMENTS_FILE),
            registered_model_name=registered_name,
        )


def train_cnn(manifest_path: str | Path, arch: str | None = None, epochs: int | None = None, device: str = "auto",
              seed: int | None = None, batch_size: int | None = None, image_size: int | None = None,
              tracking_uri: str | None = None, register: bool = True, alias: str | None = None,
              weights_path: str | Path | None = None, learning_rate: float | None = None,
              progress: bool = True, run_name: str | None = None) -> dict[str, Any]:
    """Train, evaluate on held-out families, log to MLflow, register `house-cnn` (+ alias).

    `manifest_path`: a manifest file or a photo folder holding manifest.parquet / manifest.csv.
    Returns {run_id, model_uri, registered_version, metrics (dict), train_seconds, device}.
    """
    cfg = cnn_config()
    arch = arch or cfg.model.arch
    epochs = epochs or cfg.training.epochs
    seed = cfg.training.seed if seed is None else seed
    batch_size = batch_size or cfg.training.batch_size
    image_size = image_size or cfg.model.image_size
    learning_rate = learning_rate or cfg.training.learning_rate
    if alias and not register:
        raise ValueError("alias needs register=True")
    dev = resolve_device(device)
    torch.set_num_threads(os.cpu_count() or 1)
    seed_everything(seed)

    mfile = manifest_file(manifest_path)
    manifest = read_manifest(mfile)
    t0 = time.perf_counter()
    data = decode_photos(manifest, image_size, progress=progress)
    decode_seconds = time.perf_counter() - t0
    is_val = split_by_family(data.manifest["family_id"], cfg.training.val_share, seed)
    train_rows, val_rows = np.flatnonzero(~is_val), np.flatnonzero(is_val)
    if len(train_rows) < 2 or len(val_rows) < 1:
        raise ValueError(f"manifest {mfile} has too few photos ({len(manifest)}) for a train/validation split")

    configure_tracking(tracking_uri)
    pcfg = project_config()
    fingerprint = file_fingerprint(mfile)
    with mlflow.start_run(run_name=run_name or f"house-cnn-{arch}") as run:
        mlflow.set_tags(lineage_tags(seed, fingerprint, model="house-cnn", manifest_rows=len(manifest)))
        mlflow.log_params({
            "arch": arch, "epochs": epochs, "batch_size": batch_size, "image_size": image_size,
            "learning_rate": learning_rate, "weight_decay": cfg.training.weight_decay, "dropout": cfg.model.dropout,
            "val_share": cfg.training.val_share, "seed": seed, "device": dev.type, "amp": dev.type == "cuda",
            "threads": torch.get_num_threads(), "n_photos": len(manifest), "n_train": len(train_rows),
            "n_val": len(val_rows), "manifest": str(mfile), "weights_path": str(weights_path or ""),
        })
        model = HouseCNN(arch, dropout=cfg.model.dropout, weights_path=weights_path)
        stats = fit(model, data, train_rows, dev, epochs, batch_size, learning_rate, cfg.training.weight_decay,
                    seed, progress, val_rows=val_rows)
        t1 = time.perf_counter()
        val_images = data.images[torch.from_numpy(val_rows)]
        probs = _evaluate(model, val_images, dev, stats["amp"])
        eval_seconds = time.perf_counter() - t1
        targets = {h: t[torch.from_numpy(val_rows)].numpy() for h, t in data.targets.items()}
        metrics = head_metrics(targets, probs)
        metrics.update({
            "train_seconds": stats["fit_seconds"], "decode_seconds": decode_seconds,
            "train_images_per_s": stats["train_images_per_s"],
            "eval_images_per_s": len(val_rows) / max(eval_seconds, 1e-9),
            "final_train_loss": stats["train_loss"][-1],
        })
        mlflow.log_metrics(metrics)
        for head, cm in confusion_frames(targets, probs, model.head_classes).items():
            mlflow.log_text(cm.to_csv(), f"tables/confusion_{head}.csv")
            fig = confusion_figure(cm, head)
            mlflow.log_figure(fig, f"plots/confusion_{head}.png")
            plots.close(fig)
        wrong = misclassified_rows(targets, probs, model.head_classes, cfg.training.misclassified_grid)
        fig = misclassified_grid(val_images.numpy(), wrong)
        mlflow.log_figure(fig, "plots/misclassified.png")
        plots.close(fig)
        meta = {"arch": arch, "image_size": image_size, "dropout": cfg.model.dropout,
                "heads": {h: list(c) for h, c in HEAD_CLASSES.items()}}
        info = log_cnn_model(model, meta, pcfg.cnn_model_name if register else None)
        version = str(info.registered_model_version) if register and info.registered_model_version else None
        if alias and version:
            MlflowClient().set_registered_model_alias(pcfg.cnn_model_name, alias, version)
    return {"run_id": run.info.run_id, "model_uri": info.model_uri, "registered_version": version,
            "metrics": metrics, "train_seconds": stats["fit_seconds"], "device": dev.type}
