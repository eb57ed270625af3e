"""The quarterly national re-ranking (issue 6 §1): stream a population from Parquet, score it with the
registered PMT model, compute exact national population-weighted cut points and assign every family
its desil, programs and exclusion rule.

    desil rank-population --families F --members M --model models:/desil-pmt@champion --out DIR

Input: families.parquet and members.parquet sorted by family_id (serving/population_stream.py states
and checks the requirement). Steps:
1. score: the files are read in aligned chunks of about `chunk_size` families (bounded memory); each
   chunk goes through models.ranking.rank_families (validation, model, exclusion rules) and its
   scored rows are stored atomically as `DIR/chunks/part-NNNNN.parquet` (population_chunks.py: a
   killed run started again reuses the finished chunks; no family lost or duplicated);
2. cut points: the exact population-weighted cut points (models.cut_points) over the welfare and
   people of every scored family (two small arrays: 16 bytes per family);
3. finish: a second pass over the part files assigns desil, P(desil <= 4/5) against the national cut
   points, program eligibility, and writes (each atomically):
   - ranking.parquet: one row per scored family (population_scoring.ranking_columns()), input order;
   - rejects.parquet: source ('families' | 'members'), family_id, province_code, people, errors;
   - summary/ desil_by_province, programs_by_province, exclusions_by_province (.csv and .parquet),
     desil_by_province.png, cut_points.json, reconciliation.json;
4. reconcile: input families rows == ranked + rejected families rows, input members rows == the
   members rows read (RuntimeError otherwise); logged to MLflow with the model version, input
   fingerprints, cut points, summaries and the plot.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from config.population import population_config
from data.fingerprint import dataset_fingerprint, parquet_rows
from features.regions import provinces
from models.cut_points import N_DESIL, assign_desil, people_share_by_desil, weighted_cut_points
from serving.population_chunks import ChunkStore, atomic_write_json
from serving.population_mlflow import LoadedModel, load_pmt, log_figure, log_table, use_tracking
from serving.population_scoring import finish_ranking, rejected_rows, score_chunk, scored_table
from serving.population_stream import iter_population_chunks
from serving.population_summary import RankingSummary, desil_by_province_plot

RANKING_FILE = "ranking.parquet"
REJECTS_FILE = "rejects.parquet"
REJECT_SCHEMA = pa.schema([("source", pa.string()), ("family_id", pa.string()), ("province_code", pa.string()),
                           ("people", pa.int32()), ("errors", pa.string())])


@dataclass
class PopulationRunResult:
    """What a run did. complete=False when it stopped after `max_chunks` new chunks (rerun to go on)."""

    out_dir: Path
    complete: bool
    chunks_total: int
    chunks_reused: int
    chunks_scored: int
    input_families: int = 0
    input_members: int = 0
    ranked_families: int = 0
    ranked_people: int = 0
    rejected_families: int = 0
    orphan_member_rows: int = 0
    cut_points: list[float] = field(default_factory=list)
    people_share_by_desil: list[float] = field(default_factory=list)
    fingerprint: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ranking_path(self) -> Path:
        return self.out_dir / RANKING_FILE

    @property
    def rejects_path(self) -> Path:
        return self.out_dir / REJECTS_FILE

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["out_dir"] = str(self.out_dir)
        return d


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress]:
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, disable=not enabled, console=Console(stderr=True)) as progress:
        yield progress


def _chunk_meta(chunk: Any) -> dict[str, Any]:
    return {"family_rows": chunk.family_rows, "member_rows": chunk.member_rows,
            "first_id": chunk.first_id, "last_id": chunk.last_id}


def score_population(families: Path, members: Path, loaded: LoadedModel, store: ChunkStore, chunk_size: int,
                     progress: bool = True, max_chunks: int | None = None,
                     threads: int = 1) -> tuple[int, int, int, bool]:
    """Step 1: score every chunk not yet finished in `store`. Returns (chunks seen, reused, scored,
    complete).

    threads: chunks scored at once (one thread each). LightGBM releases the GIL while it predicts, so
    with 2 threads one chunk is in the model while the next is validated and featurised. Chunks are
    read and their part files written on this thread, in chunk order, so a kill loses at most the
    chunks in flight (they are scored again on restart). Memory: up to `threads` + 1 chunks at once.
    """
    threads = max(1, threads)
    total_rows = parquet_rows(families)
    seen = reused = scored = submitted = 0
    t0 = time.perf_counter()
    done_rows = 0
    in_flight: deque[tuple[Any, dict[str, Any], Future[pd.DataFrame]]] = deque()
    with _progress(progress) as bar, ThreadPoolExecutor(max_workers=threads,
                                                        thread_name_prefix="score-chunk") as pool:
        task = bar.add_task("scoring families", total=total_rows, rate="")

        def finish_oldest() -> None:
            nonlocal scored, done_rows
            chunk, meta, future = in_flight.popleft()
            try:
                rows = future.result()
            except Exception as exc:
                for _, _, other in in_flight:
                    other.cancel()
                raise RuntimeError(f"chunk {chunk.index} (families {chunk.first_id!r}..{chunk.last_id!r}) "
                                   f"failed: {exc}") from exc
            store.write(chunk.index, meta, scored_table(rows))
            scored += 1
            done_rows += chunk.family_rows
            rate = done_rows / max(time.perf_counter() - t0, 1e-9)
            bar.update(task, advance=chunk.family_rows, rate=f"{rate:,.0f} families/s scored")

        for chunk in iter_population_chunks(families, members, chunk_size):
            seen += 1
            meta = _chunk_meta(chunk)
            if store.finished(chunk.index, meta):
                reused += 1
                bar.update(task, advance=chunk.family_rows)
                continue
            if max_chunks is not None and submitted >= max_chunks:
                while in_flight:
                    finish_oldest()
                return seen, reused, scored, False
            future = pool.submit(score_chunk, loaded.model, chunk.families.to_pandas(), chunk.members.to_pandas())
            in_flight.append((chunk, meta, future))
            submitted += 1
            while len(in_flight) >= threads:
                finish_oldest()
        while in_flight:
            finish_oldest()
    return seen, reused, scored, True


def national_cut_points(parts: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 2: (cut points (9,), welfare (n,), people (n,)) over the scored families of the parts."""
    welfare, people = [], []
    for path in parts:
        t = pq.read_table(path, columns=["source", "welfare", "people", "error"])
        ok = t.column("error").is_null().to_numpy(zero_copy_only=False) & (
            t.column("source").to_numpy(zero_copy_only=False) == "families")
        welfare.append(t.column("welfare").to_numpy(zero_copy_only=False)[ok])
        people.append(t.column("people").to_numpy(zero_copy_only=False)[ok].astype(np.int32))
    w = np.concatenate(welfare) if welfare else np.empty(0)
    p = np.concatenate(people) if people else np.empty(0, dtype=np.int32)
    if w.size == 0:
        raise NothingScored("no family was scored: every input row was rejected (see rejects.parquet)")
    return weighted_cut_points(w, p, N_DESIL), w, p


class NothingScored(RuntimeError):
    """Every input family was rejected: there is nothing to rank (rejects.parquet says why)."""


def _write_rejects_only(parts: list[Path], out_dir: Path) -> None:
    """rejects.parquet from the part files, for a run in which nothing could be scored."""
    frames = [rejected_rows(pd.read_parquet(path)) for path in parts]
    table = pa.Table.from_pandas(pd.concat(frames, ignore_index=True), schema=REJECT_SCHEMA, preserve_index=False)
    tmp = out_dir / f".{REJECTS_FILE}.tmp-{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(out_dir / REJECTS_FILE)


def _write_outputs(parts: list[Path], cut_points: np.ndarray, out_dir: Path,
                   progress: bool) -> tuple[RankingSummary, dict[str, int]]:
    """Step 3: ranking.parquet and rejects.parquet (atomic), summary accumulated on the way."""
    summary = RankingSummary()
    counts = {"input_families": 0, "ranked_families": 0, "ranked_people": 0, "rejected_families": 0,
              "orphan_member_rows": 0}
    ranking_tmp = out_dir / f".{RANKING_FILE}.tmp-{os.getpid()}"
    rejects_tmp = out_dir / f".{REJECTS_FILE}.tmp-{os.getpid()}"
    ranking_writer: pq.ParquetWriter | None = None
    rejects_writer = pq.ParquetWriter(rejects_tmp, REJECT_SCHEMA, compression="zstd")
    try:
        with _progress(progress) as bar:
            task = bar.add_task("assigning desil", total=len(parts), rate="")
            for path in parts:
                scored = pq.read_table(path).to_pandas()
                ranking = finish_ranking(scored, cut_points)
                rejects = rejected_rows(scored)
                table = pa.Table.from_pandas(ranking, preserve_index=False)
                if ranking_writer is None:
                    ranking_writer = pq.ParquetWriter(ranking_tmp, table.schema, compression="zstd")
                ranking_writer.write_table(table.cast(ranking_writer.schema))
                rejects_writer.write_table(pa.Table.from_pandas(rejects, schema=REJECT_SCHEMA, preserve_index=False))
                summary.add(ranking)
                from_families = scored["source"].eq("families")
                counts["input_families"] += int(from_families.sum())
                counts["ranked_families"] += len(ranking)
                counts["ranked_people"] += int(ranking["people"].sum())
                counts["rejected_families"] += int((from_families & scored["error"].notna()).sum())
                counts["orphan_member_rows"] += int(scored.loc[~from_families, "people"].sum())
                bar.update(task, advance=1)
    finally:
        if ranking_writer is not None:
            ranking_writer.close()
        rejects_writer.close()
    for tmp, final in ((ranking_tmp, out_dir / RANKING_FILE), (rejects_tmp, out_dir / REJECTS_FILE)):
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    return summary, counts


def _reconcile(counts: dict[str, int], input_families: int, input_members: int, member_rows_read: int) -> dict:
    rec = {
        "input_families": input_families,
        "families_rows_read": counts["input_families"],
        "ranked_families": counts["ranked_families"],
        "rejected_families": counts["rejected_families"],
        "input_members": input_members,
        "members_rows_read": member_rows_read,
        "orphan_member_rows": counts["orphan_member_rows"],
    }
    rec["families_reconcile"] = (input_families == counts["input_families"]
                                 == counts["ranked_families"] + counts["rejected_families"])
    rec["members_reconcile"] = input_members == member_rows_read
    if not (rec["families_reconcile"] and rec["members_reconcile"]):
        raise RuntimeError(f"totals do not reconcile: {rec}")
    return rec


def rank_population(families: str | Path, members: str | Path, model: str | LoadedModel, out_dir: str | Path,
                    chunk_size: int | None = None, progress: bool = True, tracking_uri: str | None = None,
                    log_to_mlflow: bool = True, fresh: bool = False,
                    max_chunks: int | None = None, threads: int | None = None) -> PopulationRunResult:
    """Run the national ranking (module docstring). `model`: a registry reference
    (models:/desil-pmt@champion, ...) or an already loaded model. `max_chunks`: score at most this many
    new chunks, then stop with complete=False (a time-boxed run; run again to go on). `fresh`: discard
    finished chunks of an earlier run in `out_dir`. `chunk_size` / `threads`: None = config/population.yaml
    (chunk_size, score_threads); neither changes any output value."""
    cfg = population_config()
    chunk_size = cfg.chunk_size if chunk_size is None else int(chunk_size)
    threads = cfg.score_threads if threads is None else int(threads)
    t_start = time.perf_counter()
    families, members, out = Path(families), Path(members), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if tracking_uri is not None or log_to_mlflow or isinstance(model, str):
        use_tracking(tracking_uri)
    loaded = load_pmt(model) if isinstance(model, str) else model
    fingerprint = dataset_fingerprint({"families": families, "members": members})
    run_key = {"families_sha": fingerprint["families_sha"], "members_sha": fingerprint["members_sha"],
               "chunk_size": int(chunk_size), **loaded.key()}
    store = ChunkStore(out / "chunks", run_key, fresh=fresh)
    seconds: dict[str, float] = {"fingerprint_and_load": time.perf_counter() - t_start}

    t0 = time.perf_counter()
    seen, reused, scored, complete = score_population(families, members, loaded, store, chunk_size, progress,
                                                      max_chunks, threads)
    seconds["score"] = time.perf_counter() - t0
    result = PopulationRunResult(out_dir=out, complete=complete, chunks_total=seen if complete else 0,
                                 chunks_reused=reused, chunks_scored=scored, fingerprint=fingerprint,
                                 model=loaded.key(), seconds=seconds)
    if not complete:
        return result

    parts = store.parts()
    if len(parts) != seen:
        raise RuntimeError(f"{seen} chunks read but {len(parts)} finished part files in {store.folder}")
    t0 = time.perf_counter()
    try:
        cut_points, welfare, people = national_cut_points(parts)
    except NothingScored:
        _write_rejects_only(parts, out)
        raise
    seconds["cut_points"] = time.perf_counter() - t0
    share = people_share_by_desil(assign_desil(welfare, cut_points), people)
    del welfare, people

    t0 = time.perf_counter()
    summary, counts = _write_outputs(parts, cut_points, out, progress)
    seconds["finish"] = time.perf_counter() - t0
    member_rows_read = sum(int(m["member_rows"]) for m in store.meta())
    rec = _reconcile(counts, int(fingerprint["families_rows"]), int(fingerprint["members_rows"]), member_rows_read)

    tables = summary.tables()
    summary_dir = out / "summary"
    summary_dir.mkdir(exist_ok=True)
    for name, table in tables.items():
        table.to_csv(summary_dir / f"{name}.csv", index=False)
        table.to_parquet(summary_dir / f"{name}.parquet", index=False)
    fig = desil_by_province_plot(tables["desil_by_province"], provinces()["province_name"])
    fig.savefig(summary_dir / "desil_by_province.png", dpi=110)
    cuts = [float(c) for c in cut_points]
    atomic_write_json(summary_dir / "cut_points.json", {"cut_points_welfare": cuts,
                                                        "people_share_by_desil": [float(s) for s in share]})
    atomic_write_json(summary_dir / "reconciliation.json", rec)
    seconds["total"] = time.perf_counter() - t_start

    result.chunks_total = seen
    result.input_families, result.input_members = rec["input_families"], rec["input_members"]
    result.ranked_families, result.rejected_families = counts["ranked_families"], counts["rejected_families"]
    result.ranked_people, result.orphan_member_rows = counts["ranked_people"], counts["orphan_member_rows"]
    result.cut_points, result.people_share_by_desil = cuts, [float(s) for s in share]
    if log_to_mlflow:
        result.run_id = _log_run(result, rec, tables, fig, chunk_size)
    atomic_write_json(out / "run.json", result.as_dict())
    return result


def _log_run(result: PopulationRunResult, rec: dict, tables: dict[str, pd.DataFrame], fig: Any,
             chunk_size: int) -> str:
    fp = result.fingerprint
    tags = {"job": "rank_population", "data_fingerprint": str(fp["data_fingerprint"]),
            "model_version": str(result.model.get("model_version")),
            "model_name": str(result.model.get("model_name"))}
    with mlflow.start_run(run_name="rank-population", tags=tags) as run:
        mlflow.log_params({**{f"data_{k}": v for k, v in fp.items()}, **{k: str(v) for k, v in result.model.items()},
                           "chunk_size": chunk_size, "chunks": result.chunks_total})
        metrics = {"input_families": rec["input_families"], "ranked_families": result.ranked_families,
                   "rejected_families": result.rejected_families, "ranked_people": result.ranked_people,
                   "orphan_member_rows": result.orphan_member_rows, "chunks_reused": result.chunks_reused,
                   **{f"cut_point_{i + 1}": c for i, c in enumerate(result.cut_points)},
                   **{f"people_share_desil_{i + 1}": s for i, s in enumerate(result.people_share_by_desil)},
                   **{f"seconds_{k}": v for k, v in result.seconds.items()}}
        mlflow.log_metrics(metrics)
        mlflow.log_dict({"cut_points_welfare": result.cut_points}, "population/cut_points.json")
        mlflow.log_dict(rec, "population/reconciliation.json")
        mlflow.log_dict(fp, "lineage/data_fingerprint.json")
        for name, table in tables.items():
            log_table(table, name, "population/summary")
        log_figure(fig, "desil_by_province", "population")
        return run.info.run_id
