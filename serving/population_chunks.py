"""Finished-chunk store of a population run: atomic part files plus a manifest, so that a run killed
midway and started again reuses what it finished and loses or duplicates nothing.

Layout under `<out>/chunks/`: `part-NNNNN.parquet` (the scored rows of chunk NNNNN, see
population_scoring.SCORED_COLUMNS) and `manifest.json`:

    {"format": 1, "run_key": {...}, "chunks": {"0": {"file", "family_rows", "member_rows", "first_id",
     "last_id", "rows", "sha"}, ...}}

`run_key` pins what the parts depend on: the input fingerprints (data.fingerprint.dataset_fingerprint),
the model (URI and resolved registry version / run id) and the chunk size. Reusing parts made from
other inputs or another model would mix two rankings, so a different run_key is an error unless the
caller asks for a fresh start.

Atomicity: a part is written to a temporary name in the same folder, flushed and fsynced, then renamed
(os.replace, atomic on POSIX); only then is the chunk added to the manifest, itself replaced
atomically. A kill at any point leaves either a finished chunk (in the manifest, file present with the
recorded sha) or nothing that counts: stray temporary files and parts missing from the manifest are
rewritten on the next run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from data.fingerprint import file_fingerprint

MANIFEST = "manifest.json"
FORMAT = 1


class RunMismatchError(RuntimeError):
    """The output folder holds chunks of a run with other inputs, another model or chunk size."""


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file + fsync + rename (readers never see half a file)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=1, sort_keys=True, default=str).encode())


def atomic_write_table(path: Path, table: pa.Table) -> None:
    """Write an Arrow table as Parquet atomically (temporary name in the same folder, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp, compression="zstd")
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class ChunkStore:
    """The finished chunks of one run (module docstring). Not safe for two writers at once."""

    def __init__(self, folder: str | Path, run_key: dict[str, Any], fresh: bool = False) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.run_key = json.loads(json.dumps(run_key, default=str))
        manifest_path = self.folder / MANIFEST
        self.chunks: dict[str, dict[str, Any]] = {}
        if fresh:
            self.clear()
        elif manifest_path.exists():
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            if manifest.get("format") != FORMAT or manifest.get("run_key") != self.run_key:
                old = manifest.get("run_key", {})
                diff = sorted(k for k in set(old) | set(self.run_key) if old.get(k) != self.run_key.get(k))
                raise RunMismatchError(
                    f"{self.folder} holds chunks of another run (differs in {diff}); use a new output "
                    "folder or start afresh (--fresh) to discard them")
            self.chunks = manifest["chunks"]
        self._remove_strays()
        self._save()

    def clear(self) -> None:
        """Forget every finished chunk and delete their files."""
        for path in self.folder.glob("part-*.parquet"):
            path.unlink()
        self.chunks = {}

    def _remove_strays(self) -> None:
        for path in self.folder.glob(".*.tmp-*"):
            path.unlink(missing_ok=True)
        known = {c["file"] for c in self.chunks.values()}
        for path in self.folder.glob("part-*.parquet"):
            if path.name not in known:
                path.unlink()

    def _save(self) -> None:
        atomic_write_json(self.folder / MANIFEST, {"format": FORMAT, "run_key": self.run_key, "chunks": self.chunks})

    def finished(self, index: int, meta: dict[str, Any]) -> bool:
        """True when chunk `index` is finished and was made from the same input rows as `meta`
        (family_rows, member_rows, first_id, last_id); its file must exist with the recorded sha.
        A finished chunk whose input rows differ means the input changed under the same fingerprint:
        an error, never a silent mix."""
        entry = self.chunks.get(str(index))
        if entry is None:
            return False
        for key in ("family_rows", "member_rows", "first_id", "last_id"):
            if entry[key] != meta[key]:
                raise RunMismatchError(f"chunk {index}: {key} was {entry[key]!r} when it was scored, now "
                                       f"{meta[key]!r}; the input changed, start afresh (--fresh)")
        path = self.folder / entry["file"]
        if not path.exists() or file_fingerprint(path) != entry["sha"]:
            del self.chunks[str(index)]
            self._save()
            return False
        return True

    def write(self, index: int, meta: dict[str, Any], table: pa.Table) -> None:
        """Store the scored rows of chunk `index` atomically and record it as finished."""
        path = self.folder / part_name(index)
        atomic_write_table(path, table)
        self.chunks[str(index)] = {**meta, "file": path.name, "rows": table.num_rows, "sha": file_fingerprint(path)}
        self._save()

    def parts(self) -> list[Path]:
        """Finished part files in chunk order."""
        return [self.folder / self.chunks[k]["file"] for k in sorted(self.chunks, key=int)]

    def meta(self) -> list[dict[str, Any]]:
        """Manifest entries of the finished chunks in chunk order."""
        return [self.chunks[k] for k in sorted(self.chunks, key=int)]
