"""Chunked Parquet writing and reading of the project's tables.

Writing goes through pandas -> Arrow with the pandas metadata kept, so nullable storage dtypes
(Int16, Int32, boolean, string) survive a round trip; each `write` call becomes one row group and
only that chunk is in memory. Reading coerces the known columns of a schema table to their storage
dtypes (features.schema.coerce_dtypes), so files written elsewhere read the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.schema import TABLES, coerce_dtypes

COMPRESSION = "zstd"


class ChunkedParquetWriter:
    """Append DataFrames with identical columns and dtypes to one Parquet file, one row group each.

    Use as a context manager; the file is complete only after `close()` (or leaving the block).
    An empty file with the right schema is written when no chunk came.
    """

    def __init__(self, path: str | Path, empty: pd.DataFrame | None = None) -> None:
        self.path = Path(path)
        self._empty = empty
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, df: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(df, preserve_index=False)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, table.schema, compression=COMPRESSION)
        elif not table.schema.equals(self._writer.schema, check_metadata=False):
            raise ValueError(
                f"{self.path.name}: chunk schema differs from the first chunk's:\n{table.schema}\nvs\n{self._writer.schema}"
            )
        self._writer.write_table(table)
        self.rows += len(df)

    def close(self) -> None:
        if self._writer is None and self._empty is not None:
            self.write(self._empty)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> ChunkedParquetWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_table(path: str | Path, table: str | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a Parquet file; with `table` (a features.schema table name) cast known columns to storage dtypes."""
    df = pd.read_parquet(path, columns=columns)
    if table is not None:
        if table not in TABLES:
            raise KeyError(f"unknown table {table!r}; tables are {sorted(TABLES)}")
        df = coerce_dtypes(df, table)
    return df


def iter_row_groups(path: str | Path, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """Yield the file's row groups as DataFrames, in order (bounded memory: one row group at a time)."""
    pf = pq.ParquetFile(path)
    for i in range(pf.num_row_groups):
        yield pf.read_row_group(i, columns=columns).to_pandas()


def iter_batches(path: str | Path, columns: list[str], batch_size: int = 1_000_000) -> Iterator[pd.DataFrame]:
    """Yield consecutive batches of `batch_size` rows (the last may be shorter) as DataFrames.

    Two files with the same row order yield aligned batches for the same batch_size.
    """
    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(batch_size=batch_size, columns=columns):
        yield batch.to_pandas()
