"""Data lineage: content fingerprints of tables and Parquet files (hash + row counts).

A fingerprint is what every MLflow run records as its data lineage (DESIGN §4) and what outputs are
named by: the same content always gives the same fingerprint, whatever the file's path.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq


def frame_fingerprint(df: pd.DataFrame) -> str:
    """sha256 (hex, 16 chars) of a DataFrame's column names, dtypes and row values, in row order."""
    h = hashlib.sha256()
    h.update("|".join(f"{c}:{t}" for c, t in df.dtypes.astype(str).items()).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def file_fingerprint(path: str | Path, block_size: int = 1 << 22) -> str:
    """sha256 (hex, 16 chars) of a file's bytes, read in 4 MiB blocks (bounded memory)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(block_size):
            h.update(chunk)
    return h.hexdigest()[:16]


def parquet_rows(path: str | Path) -> int:
    """Row count from the Parquet footer (no data read)."""
    return pq.ParquetFile(path).metadata.num_rows


def dataset_fingerprint(paths: dict[str, str | Path]) -> dict[str, str | int]:
    """Fingerprint of a set of named Parquet files: per-file hash and rows, plus one combined hash.

    Returns e.g. {"families_sha": ..., "families_rows": 1000, ..., "data_fingerprint": "<16 hex>"}.
    """
    out: dict[str, str | int] = {}
    combined = hashlib.sha256()
    for name in sorted(paths):
        sha = file_fingerprint(paths[name])
        out[f"{name}_sha"] = sha
        out[f"{name}_rows"] = parquet_rows(paths[name])
        combined.update(f"{name}={sha};".encode())
    out["data_fingerprint"] = combined.hexdigest()[:16]
    return out
