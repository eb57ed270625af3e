"""Stream a population (families.parquet + members.parquet) in aligned, bounded-memory chunks.

Input requirement (checked while reading, a clear error when violated):
- families.parquet is sorted by `family_id` (non-decreasing, byte order of the UTF-8 ids, which is
  what `pandas.sort_values` / `pyarrow.compute.sort_indices` give for strings);
- members.parquet is sorted by `family_id` (then `member_no`; only the family order is needed).
This is how `data.synth.write_population` writes a population and how BPS exports are partitioned.
Rows with a null family_id are allowed anywhere; they are passed on (validation rejects them).

Chunk k holds the families rows [start_k, start_k + ~chunk_size) and every members row whose
family_id lies in (last id of chunk k-1, last id of chunk k]; the last chunk also takes every
remaining member (members of no family: orphans, reported by validation). Families are never split
across chunks: when the rows that end a read batch share their family_id with the rows that start
the next one (duplicated ids), those tail rows are carried over to the next chunk. Members of one
family are therefore always in the same chunk as their family row. The chunking depends only on the
files and `chunk_size`, so a restarted run sees the same chunks (see population_chunks).

Memory: one families chunk plus the members of its families plus at most one members read batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ID = "family_id"


class UnsortedInputError(ValueError):
    """A population file is not sorted by family_id, so members cannot be joined chunk by chunk."""


@dataclass(frozen=True)
class PopulationChunk:
    """One aligned chunk: `families` and the `members` of exactly those family ids (+ orphans).

    index: 0-based chunk number; first_id/last_id: smallest/largest non-null family_id of the
    families rows (None when the chunk has none); family_rows/member_rows: row counts.
    """

    index: int
    families: pa.Table
    members: pa.Table
    first_id: str | None
    last_id: str | None

    @property
    def family_rows(self) -> int:
        return self.families.num_rows

    @property
    def member_rows(self) -> int:
        return self.members.num_rows


def _non_null_ids(table: pa.Table) -> pa.ChunkedArray:
    return pc.drop_null(table.column(ID))


def _check_sorted(ids: pa.ChunkedArray | pa.Array, previous: str | None, name: str, row0: int,
                  strict_after_previous: bool) -> None:
    """Raise UnsortedInputError naming the first out-of-order id (ids: non-null ids of one batch)."""
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    if len(ids) == 0:
        return
    first = ids[0].as_py()
    if previous is not None and (first < previous or (strict_after_previous and first == previous)):
        raise UnsortedInputError(
            f"{name} is not sorted by family_id: family {first!r} (near row {row0}) comes after {previous!r}; "
            f"the streaming ranker needs {name} sorted by family_id (e.g. "
            "df.sort_values('family_id').to_parquet(...)) to join members to their family chunk by chunk")
    if len(ids) > 1:
        down = pc.less(ids.slice(1), ids.slice(0, len(ids) - 1))
        if pc.any(down).as_py():
            i = int(pc.index(down, True).as_py())
            raise UnsortedInputError(
                f"{name} is not sorted by family_id: family {ids[i + 1].as_py()!r} (near row {row0 + i + 1}) "
                f"comes after {ids[i].as_py()!r}; the streaming ranker needs {name} sorted by family_id "
                "(e.g. df.sort_values('family_id').to_parquet(...)) to join members to their family")


def _first_index_above(ids: pa.ChunkedArray, last_id: str) -> int:
    """Position of the first non-null id > last_id (len(ids) when none)."""
    above = pc.fill_null(pc.greater(ids, pa.scalar(last_id, type=ids.type)), False)
    if not pc.any(above).as_py():
        return len(ids)
    return int(pc.index(above, True).as_py())


class _MemberCursor:
    """Reads members.parquet forward, handing out the rows up to a family id."""

    def __init__(self, path: Path, batch_size: int, columns: list[str] | None) -> None:
        self._batches = pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=columns)
        self._buffer: pa.Table | None = None
        self._schema = pq.read_schema(path)
        if columns is not None:
            self._schema = pa.schema([self._schema.field(c) for c in columns])
        self._exhausted = False
        self._last_seen: str | None = None
        self._rows_read = 0
        self.name = path.name

    def _read(self) -> bool:
        try:
            batch = next(self._batches)
        except StopIteration:
            self._exhausted = True
            return False
        table = pa.Table.from_batches([batch])
        ids = _non_null_ids(table)
        _check_sorted(ids, self._last_seen, self.name, self._rows_read, strict_after_previous=False)
        if len(ids):
            self._last_seen = ids[-1].as_py()
        self._rows_read += table.num_rows
        self._buffer = table if self._buffer is None else pa.concat_tables([self._buffer, table])
        return True

    def take_until(self, last_id: str | None) -> pa.Table:
        """All remaining rows with family_id <= last_id (and null ids among them); None = everything."""
        while not self._exhausted and (
                last_id is None or self._buffer is None or self._last_seen is None or self._last_seen <= last_id):
            self._read()
        if self._buffer is None:
            return self._schema.empty_table()
        if last_id is None:
            out, self._buffer = self._buffer, None
            return out
        cut = _first_index_above(self._buffer.column(ID), last_id)
        out = self._buffer.slice(0, cut)
        rest = self._buffer.slice(cut)
        self._buffer = rest if rest.num_rows else None
        return out


def iter_population_chunks(families_path: str | Path, members_path: str | Path, chunk_size: int,
                           family_columns: list[str] | None = None,
                           member_columns: list[str] | None = None) -> Iterator[PopulationChunk]:
    """Yield aligned PopulationChunk's in file order (module docstring for the contract).

    chunk_size: families rows per read batch (>= 1); a chunk may differ from it by the carried rows
    of a family whose id is duplicated across a batch boundary. Raises UnsortedInputError when either
    file is not sorted by family_id.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size = {chunk_size}; allowed: an integer >= 1")
    families_path, members_path = Path(families_path), Path(members_path)
    for path in (families_path, members_path):
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        if ID not in pq.read_schema(path).names:
            raise ValueError(f"{path.name} has no {ID!r} column; both population files need it")
    members = _MemberCursor(members_path, batch_size=max(chunk_size * 3, 1024), columns=member_columns)
    batches = pq.ParquetFile(families_path).iter_batches(batch_size=chunk_size, columns=family_columns)
    carry: pa.Table | None = None
    previous_last: str | None = None
    rows_read = 0
    index = 0
    batch = next(batches, None)
    while batch is not None:
        following = next(batches, None)
        table = pa.Table.from_batches([batch])
        ids = _non_null_ids(table)
        # Within one batch ids must not go down; across chunks they must go strictly up (the carry
        # keeps equal ids together, so an equal id here means the file repeats a finished family).
        _check_sorted(ids, previous_last, families_path.name, rows_read,
                      strict_after_previous=carry is None)
        rows_read += table.num_rows
        table = table if carry is None else pa.concat_tables([carry, table])
        carry = None
        all_ids = _non_null_ids(table)
        if following is not None and len(all_ids):
            tail_id = all_ids[-1].as_py()
            first_tail = len(table) - _count_tail(table.column(ID), tail_id)
            if first_tail == 0:  # the whole batch is one family id: keep reading
                carry, batch = table, following
                previous_last = tail_id
                continue
            carry = table.slice(first_tail)
            table = table.slice(0, first_tail)
        chunk_ids = _non_null_ids(table)
        first_id = chunk_ids[0].as_py() if len(chunk_ids) else None
        last_id = chunk_ids[-1].as_py() if len(chunk_ids) else previous_last
        member_rows = members.take_until(None if following is None else last_id)
        if carry is not None:
            previous_last = carry.column(ID)[0].as_py()
        elif last_id is not None:
            previous_last = last_id
        yield PopulationChunk(index=index, families=table, members=member_rows, first_id=first_id,
                              last_id=chunk_ids[-1].as_py() if len(chunk_ids) else None)
        # (carry is only set when another batch follows, so nothing is left over after the loop)
        index += 1
        batch = following


def _count_tail(ids: pa.ChunkedArray, tail_id: str) -> int:
    """Number of trailing rows (nulls included) from the first row whose id equals tail_id."""
    equal = pc.fill_null(pc.equal(ids, pa.scalar(tail_id, type=ids.type)), False)
    first = int(pc.index(equal, True).as_py())
    return len(ids) - first
