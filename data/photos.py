"""Synthetic house photos for a population, and the photo manifest (read, validate, write).

`render_photos` picks a seeded share of the families in a population folder (written by
data.synth.write_population) and renders, per family, a `front` photo (wall + roof, shows
habitability) and a `floor` photo of the family's TRUE housing (truth.parquet: true_wall_material,
true_roof_material, true_floor_material, habitable), never its possibly misreported answers. Photo i
is a pure function of (seed, i, labels): each photo draws from its own Generator seeded [seed, i].

Manifest (features.schema PHOTO_FIELDS): one row per image with family_id, kind (front|floor), path
(relative to the manifest's folder; JPEG or PNG), wall_label, roof_label, floor_label (merged
classes, null when unknown or not shown) and habitable (null when unknown). It is stored as
`manifest.parquet` in the photo folder; `manifest.csv` with the same columns is accepted too, so a
folder of real field photos can be used for training and evaluation as it is.
"""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import numpy as np
import pandas as pd

from features.photo_features import HEAD_CLASSES, HEAD_LABEL_COLUMN, KIND_HEADS, material_class
from features.schema import coerce_dtypes, field_map

MANIFEST_NAMES = ("manifest.parquet", "manifest.csv")
TRUTH_COLUMNS = ("family_id", "true_wall_material", "true_roof_material", "true_floor_material", "habitable")
IMAGE_DIR = "images"


def read_truth(population_dir: str | Path) -> pd.DataFrame:
    """The true housing of every family from `<population_dir>/truth.parquet` (family_id as a column)."""
    path = Path(population_dir) / "truth.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: expected a population folder written by "
                                "data.synth.write_population (families/members/truth .parquet)")
    truth = pd.read_parquet(path)
    if "family_id" not in truth.columns and truth.index.name == "family_id":
        truth = truth.reset_index()
    missing = [c for c in TRUTH_COLUMNS if c not in truth.columns]
    if missing:
        raise ValueError(f"{path} lacks column(s) {missing}; photos need {list(TRUTH_COLUMNS)}")
    return truth


def photo_plan(truth: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """The manifest of the photos to render: a seeded share of families, front + floor each.

    Rows are ordered by (family order in `truth`, kind front then floor); row i is rendered from
    Generator([seed, i]). Labels are the merged classes of the true materials.
    """
    if not 0 < share <= 1:
        raise ValueError(f"share={share} must be in (0, 1]")
    rng = np.random.default_rng([seed, 0x5EED])
    n = len(truth)
    take = np.sort(rng.choice(n, size=max(1, round(share * n)), replace=False)) if n else np.array([], int)
    chosen = truth.iloc[take].reset_index(drop=True)
    fam = chosen["family_id"].astype(str)
    front = pd.DataFrame({
        "family_id": fam, "kind": "front", "path": IMAGE_DIR + "/" + fam + "_front.jpg",
        "wall_label": material_class("wall", chosen["true_wall_material"]),
        "roof_label": material_class("roof", chosen["true_roof_material"]),
        "floor_label": pd.array([None] * len(chosen), dtype="string"),
        "habitable": chosen["habitable"].astype("boolean"),
    })
    floor = pd.DataFrame({
        "family_id": fam, "kind": "floor", "path": IMAGE_DIR + "/" + fam + "_floor.jpg",
        "wall_label": pd.array([None] * len(chosen), dtype="string"),
        "roof_label": pd.array([None] * len(chosen), dtype="string"),
        "floor_label": material_class("floor", chosen["true_floor_material"]),
        "habitable": pd.array([None] * len(chosen), dtype="boolean"),
    })
    plan = pd.concat([front, floor]).sort_index(kind="stable").reset_index(drop=True)
    unmapped = plan[(plan["kind"] == "front") & (plan["wall_label"].isna() | plan["roof_label"].isna())]
    unmapped = pd.concat([unmapped, plan[(plan["kind"] == "floor") & plan["floor_label"].isna()]])
    if len(unmapped):
        row = unmapped.iloc[0]
        raise ValueError(f"family {row['family_id']}: a true material code has no photo class; "
                         "codes must be those of features.schema")
    return coerce_dtypes(plan, "photos")


def _render_task(task: tuple) -> None:
    """Render and write one photo (runs in a worker process)."""
    from data.photo_scenes import render_floor, render_front

    seed, index, kind, wall, roof, floor, habitable, size, q_min, q_max, out_path = task
    rng = np.random.default_rng([seed, index])
    if kind == "front":
        img = render_front(rng, size, wall, roof, bool(habitable))
    else:
        img = render_floor(rng, size, floor)
    img.save(out_path, format="JPEG", quality=int(rng.integers(q_min, q_max + 1)))


def render_photos(population_dir: str | Path, out_dir: str | Path, share: float = 0.3, seed: int = 0,
                  size: int = 128, workers: int = 2, jpeg_quality: tuple[int, int] = (45, 95),
                  progress: bool = True) -> pd.DataFrame:
    """Render front + floor JPEGs for a seeded share of a population's families and write the manifest.

    Writes `<out_dir>/images/<family_id>_<kind>.jpg` (size x size pixels) and `<out_dir>/manifest.parquet`.
    Returns the manifest. Same (population, share, seed, size) gives byte-identical files.
    """
    out = Path(out_dir)
    (out / IMAGE_DIR).mkdir(parents=True, exist_ok=True)
    plan = photo_plan(read_truth(population_dir), share, seed)
    tasks = [
        (seed, i, r.kind, r.wall_label, r.roof_label, r.floor_label,
         None if pd.isna(r.habitable) else bool(r.habitable), size, jpeg_quality[0], jpeg_quality[1],
         str(out / r.path))
        for i, r in enumerate(plan.itertuples(index=False))
    ]
    _run_tasks(tasks, workers, progress)
    plan.to_parquet(out / "manifest.parquet", index=False)
    return plan


def _run_tasks(tasks: list[tuple], workers: int, progress: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), disable=not progress) as bar:
        job = bar.add_task("rendering photos", total=len(tasks))
        if workers <= 1:
            for t in tasks:
                _render_task(t)
                bar.advance(job)
            return
        with mp.get_context("fork").Pool(workers) as pool:
            for _ in pool.imap_unordered(_render_task, tasks, chunksize=32):
                bar.advance(job)


def manifest_file(path: str | Path) -> Path:
    """The manifest file: `path` itself, or manifest.parquet / manifest.csv inside folder `path`."""
    p = Path(path)
    if p.is_dir():
        for name in MANIFEST_NAMES:
            if (p / name).is_file():
                return p / name
        raise FileNotFoundError(f"no {' or '.join(MANIFEST_NAMES)} in photo folder {p}")
    if not p.is_file():
        raise FileNotFoundError(f"photo manifest {p} not found")
    return p


def read_manifest(path: str | Path, check_files: bool = True) -> pd.DataFrame:
    """Read and validate a photo manifest (Parquet or CSV; file or folder holding it).

    Returns the manifest with storage dtypes plus `image_path` (absolute path of each image). Raises
    ValueError listing every bad row (family id, field, value, what is allowed); with `check_files`,
    missing image files are errors too.
    """
    mpath = manifest_file(path)
    df = pd.read_parquet(mpath) if mpath.suffix == ".parquet" else pd.read_csv(mpath, dtype=str)
    specs = field_map("photos")
    for col in ("family_id", "kind", "path"):
        if col not in df.columns:
            raise ValueError(f"manifest {mpath} lacks required column {col!r}; columns are {list(specs)}")
    for col in ("wall_label", "roof_label", "floor_label", "habitable"):
        if col not in df.columns:
            df[col] = None
    if df["habitable"].dtype == object or str(df["habitable"].dtype) in ("string", "str"):
        text = df["habitable"].astype("string").str.strip().str.lower()
        df["habitable"] = text.map({"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False})
    df = coerce_dtypes(df, "photos")
    errors: list[str] = []
    for col in ("family_id", "kind", "path"):
        for i in df.index[df[col].isna()]:
            errors.append(f"row {i}: {col} is missing ({specs[col].allowed_text()})")
    bad_kind = df["kind"].notna() & ~df["kind"].isin(list(KIND_HEADS))
    for i in df.index[bad_kind]:
        errors.append(f"family {df.at[i, 'family_id']}: kind={df.at[i, 'kind']!r}; allowed 'front' or 'floor'")
    for head in ("wall", "roof", "floor"):
        col = HEAD_LABEL_COLUMN[head]
        bad = df[col].notna() & ~df[col].isin(list(HEAD_CLASSES[head]))
        for i in df.index[bad]:
            errors.append(f"family {df.at[i, 'family_id']}: {col}={df.at[i, col]!r}; allowed {list(HEAD_CLASSES[head])}"
                          " or empty")
    root = mpath.parent
    df["image_path"] = [str((root / p).resolve()) if isinstance(p, str) else None for p in df["path"]]
    if check_files:
        for i, p in zip(df.index, df["image_path"], strict=True):
            if p is not None and not Path(p).is_file():
                errors.append(f"family {df.at[i, 'family_id']}: path={df.at[i, 'path']!r}: image file not found")
    if errors:
        shown = "\n  ".join(errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        raise ValueError(f"photo manifest {mpath} has {len(errors)} bad row(s):\n  {shown}{more}")
    return df
