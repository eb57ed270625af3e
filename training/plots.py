"""Figures reviewers look at in MLflow: decile confusion matrix, calibration, per-province errors,
feature importance, transition matrices. Each function returns a matplotlib Figure (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def matrix_heatmap(matrix: pd.DataFrame, title: str, xlabel: str, ylabel: str, normalise_rows: bool = True) -> Figure:
    """10x10 heatmap; cells show the row share (or raw counts) with the count as text."""
    values = matrix.to_numpy(dtype=float)
    shown = values / np.maximum(values.sum(axis=1, keepdims=True), 1e-12) if normalise_rows else values
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    im = ax.imshow(shown, cmap="viridis", vmin=0)
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns])
    ax.set_yticks(range(matrix.shape[0]), [str(r) for r in matrix.index])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    for i in range(shown.shape[0]):
        for j in range(shown.shape[1]):
            if shown[i, j] >= 0.005 * (1 if normalise_rows else shown.max()):
                ax.text(j, i, f"{shown[i, j]:.2f}" if normalise_rows else f"{values[i, j]:.0f}",
                        ha="center", va="center", fontsize=7,
                        color="white" if shown[i, j] < 0.6 * shown.max() else "black")
    fig.colorbar(im, ax=ax, label="row share" if normalise_rows else "count")
    fig.tight_layout()
    return fig


def decile_confusion(confusion: pd.DataFrame) -> Figure:
    """People-weighted confusion matrix of true vs predicted desil, row-normalised."""
    return matrix_heatmap(confusion, "Desil confusion (people, row share)", "predicted desil", "true desil")


def calibration(y: np.ndarray, pred: np.ndarray, weight: np.ndarray, n_bins: int = 20) -> Figure:
    """Mean observed vs mean predicted log per-capita expenditure in weighted prediction bins."""
    order = np.argsort(pred)
    cum = np.cumsum(weight[order]) / weight.sum()
    bins = np.minimum((cum * n_bins).astype(int), n_bins - 1)
    df = pd.DataFrame({"bin": bins, "y": y[order], "p": pred[order], "w": weight[order]})
    g = df.groupby("bin").apply(
        lambda b: pd.Series({"pred": np.average(b.p, weights=b.w), "obs": np.average(b.y, weights=b.w)}),
        include_groups=False)
    fig, ax = plt.subplots(figsize=(6, 6))
    lo, hi = float(min(g.pred.min(), g.obs.min())), float(max(g.pred.max(), g.obs.max()))
    ax.plot([lo, hi], [lo, hi], color="grey", linestyle="--", label="perfect")
    ax.plot(g.pred, g.obs, marker="o", label="model")
    ax.set_xlabel("mean predicted log per-capita expenditure")
    ax.set_ylabel("mean observed log per-capita expenditure")
    ax.set_title("Calibration on held-out survey families")
    ax.legend()
    fig.tight_layout()
    return fig


def per_province_errors(by_province: pd.DataFrame, names: pd.Series | None = None) -> Figure:
    """Bar chart of person-weighted exclusion and inclusion error at desil <= 4 per province."""
    df = by_province.copy()
    labels = [f"{c} {names.get(c, '')}".strip() if names is not None else str(c) for c in df.index]
    fig, ax = plt.subplots(figsize=(9, 10))
    y = np.arange(len(df))
    ax.barh(y - 0.2, df["exclusion_error_d4_person"], height=0.4, label="exclusion error (desil<=4, people)")
    ax.barh(y + 0.2, df["inclusion_error_d4_person"], height=0.4, label="inclusion error (desil<=4, people)")
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("error share")
    ax.set_title("Targeting errors per province")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def feature_importance(importance: pd.Series, top: int = 25) -> Figure:
    """Horizontal bars of the mean absolute contribution per raw variable (log expenditure units)."""
    s = importance.sort_values(ascending=False).head(top)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(s) + 1.5))
    ax.barh(range(len(s)), s.to_numpy())
    ax.set_yticks(range(len(s)), list(s.index), fontsize=8)
    ax.set_xlabel("mean |contribution| (log per-capita expenditure)")
    ax.set_title("Feature importance (raw variables)")
    fig.tight_layout()
    return fig


def close(fig: Figure) -> None:
    plt.close(fig)
