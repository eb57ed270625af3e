"""Evaluation of the house CNN on held-out photos: per-head accuracy and macro-F1 (scikit-learn),
confusion matrices and a grid of misclassified photos (matplotlib figures)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from models.house_cnn import IGNORE
from training import plots


def head_metrics(targets: dict[str, np.ndarray], probs: dict[str, np.ndarray]) -> dict[str, float]:
    """`val_accuracy_<head>`, `val_macro_f1_<head>` and `val_n_<head>` over the rows labelled for that head."""
    out: dict[str, float] = {}
    for head, target in targets.items():
        present = target != IGNORE
        out[f"val_n_{head}"] = float(present.sum())
        if not present.any():
            continue
        pred = probs[head][present].argmax(axis=1)
        n_classes = probs[head].shape[1]
        out[f"val_accuracy_{head}"] = float(accuracy_score(target[present], pred))
        out[f"val_macro_f1_{head}"] = float(f1_score(target[present], pred, average="macro",
                                                     labels=list(range(n_classes)), zero_division=0))
    return out


def confusion_frames(targets: dict[str, np.ndarray], probs: dict[str, np.ndarray],
                     head_classes: dict[str, tuple[str, ...]]) -> dict[str, pd.DataFrame]:
    """Confusion matrix (counts; rows true, columns predicted) per head with class names."""
    out = {}
    for head, target in targets.items():
        present = target != IGNORE
        classes = head_classes[head]
        cm = confusion_matrix(target[present], probs[head][present].argmax(axis=1), labels=list(range(len(classes))))
        out[head] = pd.DataFrame(cm, index=pd.Index(classes, name="true"), columns=pd.Index(classes, name="predicted"))
    return out


def confusion_figure(cm: pd.DataFrame, head: str) -> Figure:
    return plots.matrix_heatmap(cm, f"house-cnn {head}: held-out confusion (row share)", "predicted", "true")


def misclassified_rows(targets: dict[str, np.ndarray], probs: dict[str, np.ndarray],
                       head_classes: dict[str, tuple[str, ...]], limit: int) -> list[tuple[int, str]]:
    """Up to `limit` (row, caption) of photos with at least one wrong head; caption 'head: true->pred'."""
    wrong: dict[int, list[str]] = {}
    for head, target in targets.items():
        pred = probs[head].argmax(axis=1)
        for i in np.flatnonzero((target != IGNORE) & (pred != target)):
            wrong.setdefault(int(i), []).append(f"{head}: {head_classes[head][target[i]]}->{head_classes[head][pred[i]]}")
    return [(i, "\n".join(wrong[i])) for i in sorted(wrong)[:limit]]


def misclassified_grid(images: np.ndarray, rows: list[tuple[int, str]]) -> Figure:
    """A grid of misclassified photos (uint8 (N, 3, H, W)), each captioned with its wrong heads."""
    import matplotlib.pyplot as plt

    n = max(1, len(rows))
    cols = min(6, n)
    nrows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(2.4 * cols, 2.7 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (i, caption) in zip(axes.ravel(), rows, strict=False):
        ax.imshow(images[i].transpose(1, 2, 0))
        ax.set_title(caption, fontsize=6)
    if not rows:
        axes[0, 0].text(0.5, 0.5, "no misclassified photo", ha="center", va="center")
    fig.tight_layout()
    return fig
