"""Parquet uploads for `rank_file`: read what a client sent, score it, write the results file.

Two accepted forms (multipart form fields):
- `families` only: one Parquet file, one row per family, with a `members` column (list<struct> of
  member records, or a JSON string of that list) as written by features.nested_input.to_nested;
- `families` + `members`: the two contract tables as separate Parquet files.
The result is one Parquet file with models.ranking's columns, one row per uploaded family, in upload
order (rejected families have `error` set and null scores).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.nested_input import MEMBERS_COLUMN, to_nested
from models.pmt_pyfunc import photo_columns, rank_nested
from models.ranking import rank_families
from serving.request_limits import RequestRejected, check_count

PARQUET_MAGIC = b"PAR1"


def _check_parquet(path: Path, field_name: str) -> pq.ParquetFile:
    head = tail = b""
    if path.stat().st_size >= 2 * len(PARQUET_MAGIC):
        with path.open("rb") as fh:
            head = fh.read(len(PARQUET_MAGIC))
            fh.seek(-len(PARQUET_MAGIC), 2)
            tail = fh.read(len(PARQUET_MAGIC))
    if head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise RequestRejected(422, f"form field '{field_name}' is not a Parquet file (expected an Apache Parquet "
                                   "file as written by pandas.DataFrame.to_parquet or pyarrow)")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        raise RequestRejected(422, f"form field '{field_name}': unreadable Parquet file: {err}") from None


def read_upload(families_path: Path, members_path: Path | None, max_families: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(families, members) frames of an upload; members is None for the one-file (nested) form.

    Raises RequestRejected: 413 over max_families rows, 422 for a non-Parquet file, a missing
    family_id column, or an ambiguous/incomplete form."""
    fam_file = _check_parquet(families_path, "families")
    check_count("families in the Parquet upload", fam_file.metadata.num_rows, max_families,
                "use the population batch job for larger files")
    names = set(fam_file.schema_arrow.names)
    if "family_id" not in names:
        raise RequestRejected(422, "the families file has no 'family_id' column")
    if members_path is None:
        if MEMBERS_COLUMN not in names:
            raise RequestRejected(422, "the families file has no 'members' column: send each family with a list of "
                                       "its members, or send the members table as the form field 'members'")
        return fam_file.read().to_pandas(), None
    if MEMBERS_COLUMN in names:
        raise RequestRejected(422, "the families file has a 'members' column and a members file was sent too; "
                                   "send one form or the other")
    mem_file = _check_parquet(members_path, "members")
    return fam_file.read().to_pandas(), mem_file.read().to_pandas()


def score_upload(model, families: pd.DataFrame, members: pd.DataFrame | None,
                 photo_model_version: str | None) -> pd.DataFrame:
    """Rank an upload with the registered model's path (rank_nested; two tables without photo
    columns go straight to rank_families, which rank_nested calls)."""
    if members is None:
        return rank_nested(model, families, photo_model_version)
    if photo_columns(families):
        return rank_nested(model, to_nested(families, members), photo_model_version)
    return rank_families(model, families, members)


def write_results(results: pd.DataFrame, out_dir: str | Path) -> Path:
    """Write the results frame to `<out_dir>/desil_results.parquet` (zstd) and return its path."""
    path = Path(out_dir) / "desil_results.parquet"
    pq.write_table(pa.Table.from_pandas(results, preserve_index=False), path, compression="zstd")
    return path
