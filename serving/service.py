"""The BentoML scoring service: rank families, classify house photos, explain scores (issue 5).

Start: `bentoml serve serving.service:DesilService --host 127.0.0.1 --port 3000` (or `desil serve`).
Before any worker starts, a pre-start check resolves the served models in the MLflow registry and the
token hashes; a missing `desil-pmt` model or alias (or, with photos_required, `house-cnn`) or no token
refuses the start with a message naming it and the fix (exit status 1). Workers then load the models
in __init__; /readyz answers only once they are loaded.

Routes (POST, JSON unless said; `Authorization: Bearer <token>` on all of them):
- /rank            {"families": [family + members, ...], "photo_model_version": null}
                   -> {"model": {...}, "n_families", "n_scored", "n_rejected", "results": [...]}
- /rank_family     {"families": [one family]} -> [result] (concurrent requests scored together per worker)
- /rank_file       multipart: families=<Parquet> [members=<Parquet>] [photo_model_version]
                   -> Parquet file of results
- /classify_house  multipart: photos=<JPEG/PNG> (repeat the field) -> {"model", "results": [per photo]}
- /explain         {"families": [...], "top_k": 5, "photo_model_version": null} -> {"model", "results": [...]}
- /model_info      {} -> versions, aliases, cut points, training-data fingerprints
Public: /livez, /healthz, /readyz, /metrics (and the API docs when auth.docs_public).

Request logs carry the request id, the route and counts only: never member attributes, names or any
identifier beyond family_id (and family ids are not logged either).
"""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path
from typing import Annotated, Any

import bentoml
from bentoml.validators import ContentType
from opentelemetry import trace
from pydantic import Field
from starlette.responses import JSONResponse

from config import project_config
from config.serving import serving_config
from serving.auth import BearerTokenMiddleware, TokenConfigError, load_token_hashes
from serving.connection_balancing import ConnectionBalanceMiddleware
from serving.connection_recycling import ConnectionRecycleMiddleware
from serving.family_payload import explain_records, rank_records
from serving.micro_batching import MicroBatcher
from serving.model_loader import (
    FIX_CNN,
    FIX_PMT,
    ModelUnavailable,
    ResolvedModel,
    configure_registry,
    load_cnn,
    load_pmt,
    resolve_model,
)
from serving.parquet_upload import read_upload, score_upload, write_results
from serving.photo_upload import check_photo, classify_photos
from serving.request_limits import BodySizeLimitMiddleware, RequestRejected, check_count

logger = logging.getLogger("bentoml.desil")
CFG = serving_config()
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
# JSON answers with their media type stated: without it BentoML 1.4 derives it from the output's JSON
# schema, which it rebuilds for every response (~12 % of a worker's request handling under load).
JSONObject = Annotated[dict[str, Any], ContentType("application/json")]
JSONList = Annotated[list[dict[str, Any]], ContentType("application/json")]
# rank_file's optional members file: a list (0 or 1 file) because BentoML 1.4.39 cannot build an
# optional single-file field.
OPTIONAL_MEMBERS_FILE = Field(default_factory=list, description="members table (two-table form), at most one file")


def request_id() -> str:
    """The id BentoML returns in X-BentoML-Request-ID (the request's span id, 16 hex digits)."""
    return format(trace.get_current_span().get_span_context().span_id, "016x")


def rejected(err: RequestRejected, ctx: bentoml.Context | None = None) -> JSONResponse:
    """The error response of a refused request. Routes that take a Context must pass it: BentoML copies
    the context's status code onto whatever the route returns."""
    if ctx is not None:
        ctx.response.status_code = err.status
    return JSONResponse({"error": err.message}, status_code=err.status)


def resolve_served_models() -> tuple[ResolvedModel, ResolvedModel | None, str | None]:
    """(pmt, cnn or None, why cnn is None). Raises ModelUnavailable for the PMT model, and for the
    house-cnn when models.photos_required."""
    store = configure_registry()
    names = project_config()
    pmt = resolve_model(names.pmt_model_name, CFG.models.pmt_reference(), FIX_PMT, store)
    try:
        cnn = resolve_model(names.cnn_model_name, CFG.models.cnn_reference(), FIX_CNN, store)
    except ModelUnavailable as err:
        if CFG.models.photos_required:
            raise
        return pmt, None, str(err)
    return pmt, cnn, None


@bentoml.service(
    name="desil",
    workers=CFG.service.workers,
    threads=CFG.service.threads,
    traffic={"timeout": CFG.service.timeout_s, "max_concurrency": CFG.service.max_concurrency},
)
class DesilService:
    """Loads desil-pmt (and house-cnn when registered) once per worker; routes convert and delegate."""

    @bentoml.on_deployment
    def check_before_start() -> None:
        """Runs once in the main process before workers start: refuse to start on a missing model,
        alias or token configuration, with the fix in the message (SystemExit -> exit status 1)."""
        try:
            load_token_hashes(CFG.auth)
            pmt, cnn, why = resolve_served_models()
        except (ModelUnavailable, TokenConfigError) as err:
            raise SystemExit(f"desil service refuses to start: {err}") from None
        logger.info("serving %s v%s (%s)", pmt.name, pmt.version, pmt.reference)
        if cnn is None:
            logger.warning("house-cnn not loaded, classify_house will answer 503: %s", why)

    def __init__(self) -> None:
        started = time.perf_counter()
        self.pmt_entry, self.cnn_entry, self.cnn_missing = resolve_served_models()
        self.pmt = load_pmt(self.pmt_entry)
        self.cnn = load_cnn(self.cnn_entry) if self.cnn_entry is not None else None
        self.cut_points = [float(c) for c in self.pmt.cut_points]
        self._family_batcher: MicroBatcher[Any, dict[str, Any]] = MicroBatcher(
            self._rank_family_batch, CFG.service.rank_family_max_batch_size,
            CFG.service.rank_family_batch_window_ms / 1000.0)
        self.photo_model_version = getattr(self.pmt, "photo_model_version", None)
        self.model_block = {"pmt": {"name": self.pmt_entry.name, "version": self.pmt_entry.version,
                                    "reference": self.pmt_entry.reference},
                            "house_cnn": None if self.cnn_entry is None else
                            {"name": self.cnn_entry.name, "version": self.cnn_entry.version,
                             "reference": self.cnn_entry.reference}}
        logger.info("models loaded in %.1f s: %s v%s, house-cnn %s", time.perf_counter() - started,
                    self.pmt_entry.name, self.pmt_entry.version,
                    f"v{self.cnn_entry.version}" if self.cnn_entry else "not loaded")
        # The worker now holds millions of long-lived objects (torch, MLflow, pandas, the models). Move
        # them out of the cyclic garbage collector's reach: otherwise each full collection walks them
        # all and stalls every request in flight for a few hundred milliseconds (seen as p99 spikes).
        gc.collect()
        gc.freeze()
        # Requests leave almost no cyclic garbage (a full collection under load found none), but with the
        # default thresholds a full collection ran about once a second per worker, 10-50 ms each, stalling
        # whatever was in flight. Collect the young generations less often and the old one rarely.
        gc.set_threshold(*CFG.service.gc_thresholds)

    # -- ranking --------------------------------------------------------------------------------
    @bentoml.api
    def rank(self, families: list[Any], photo_model_version: str | None = None) -> JSONObject:
        """Rank a batch of families (each with its `members` list). Every family comes back once, in
        request order: scores, desil, P(desil<=4), P(desil<=5), programs, exclusion rule, or `error`
        (family id, field, value, allowed) when it failed validation; the valid ones are scored. A
        family_id sent twice in one request is ambiguous: each copy gets an error."""
        t0 = time.perf_counter()
        try:
            check_count("families in the request", len(families), CFG.limits.max_families_per_request,
                        "send larger batches to rank_file as Parquet")
        except RequestRejected as err:
            return rejected(err)
        results = rank_records(self.pmt, families, photo_model_version)
        n_rejected = sum(1 for r in results if r.get("error") is not None)
        logger.info("rank request_id=%s families=%d rejected=%d ms=%.1f", request_id(), len(results),
                    n_rejected, 1000 * (time.perf_counter() - t0))
        return {"model": self.model_block, "n_families": len(results), "n_scored": len(results) - n_rejected,
                "n_rejected": n_rejected, "results": results}

    @bentoml.api
    async def rank_family(self, families: list[Any]) -> JSONList:
        """Rank one family per request (`{"families": [family]}` -> `[result]`); concurrent requests are
        scored together in one call (serving.micro_batching). Each result carries pmt_model_version."""
        return await self._family_batcher.submit(families)

    def _rank_family_batch(self, families: list[Any]) -> list[dict[str, Any]]:
        """One scoring call for the families of several rank_family requests (in a worker thread)."""
        t0 = time.perf_counter()
        results = rank_records(self.pmt, families, None, one_request=False)  # several requests' families
        for r in results:
            r["pmt_model_version"] = self.pmt_entry.version
        logger.info("rank_family batch families=%d ms=%.1f", len(results), 1000 * (time.perf_counter() - t0))
        return results

    @bentoml.api
    def rank_file(self, families: Path,
                  members: list[Path] = OPTIONAL_MEMBERS_FILE,
                  photo_model_version: str | None = None,
                  ctx: bentoml.Context = None) -> Annotated[Path, ContentType(PARQUET_MEDIA_TYPE)]:
        """Rank a Parquet upload (one file with a `members` list column, or families + members files);
        answers a Parquet file with one result row per uploaded family, in upload order. Model versions
        are in the response headers X-Desil-PMT-Model and X-Desil-PMT-Version."""
        t0 = time.perf_counter()
        try:
            if len(members) > 1:
                raise RequestRejected(422, f"{len(members)} members files sent; send at most one")
            fam, mem = read_upload(families, members[0] if members else None, CFG.limits.max_families_per_file)
            results = score_upload(self.pmt, fam, mem, photo_model_version)
        except RequestRejected as err:
            return rejected(err, ctx)
        except ValueError as err:  # a whole-file refusal from the scoring path (columns, photo version)
            return rejected(RequestRejected(422, str(err)), ctx)
        path = write_results(results, ctx.temp_dir)
        ctx.response.headers["X-Desil-PMT-Model"] = self.pmt_entry.name
        ctx.response.headers["X-Desil-PMT-Version"] = str(self.pmt_entry.version)
        n_rejected = int(results["error"].notna().sum())
        logger.info("rank_file request_id=%s families=%d rejected=%d ms=%.1f", request_id(), len(results),
                    n_rejected, 1000 * (time.perf_counter() - t0))
        return path

    # -- photos ---------------------------------------------------------------------------------
    @bentoml.api
    def classify_house(self, photos: list[Path]) -> JSONObject:
        """Classify house photos (JPEG/PNG, form field `photos`, repeatable): per photo and head
        (wall, roof, floor, habitable) the class probabilities and the most probable label."""
        if self.cnn is None:
            return JSONResponse({"error": f"house-cnn is not loaded in this service: {self.cnn_missing}; "
                                          "then restart the service"}, status_code=503)
        t0 = time.perf_counter()
        try:
            if not photos:
                raise RequestRejected(422, "no photo sent: upload one or more JPEG/PNG files as form field 'photos'")
            check_count("photos in the request", len(photos), CFG.limits.max_photos_per_request)
            for i, path in enumerate(photos):
                check_photo(path, i, CFG.limits)
        except RequestRejected as err:
            return rejected(err)
        results = classify_photos(self.cnn, photos)
        logger.info("classify_house request_id=%s photos=%d ms=%.1f", request_id(), len(results),
                    1000 * (time.perf_counter() - t0))
        return {"model": self.model_block["house_cnn"], "results": results}

    # -- explanations and model facts -----------------------------------------------------------
    @bentoml.api
    def explain(self, families: list[Any], top_k: int | None = None,
                photo_model_version: str | None = None) -> JSONObject:
        """The top contributions to each family's predicted log per-capita expenditure, in words
        (e.g. 'owns a car: +0.21 log expenditure'), for appeals. photo_* fields and photo_model_version
        as in `rank`, so the contributions add up to the prediction `rank` gives."""
        t0 = time.perf_counter()
        k = top_k or CFG.service.explain_top_k
        try:
            check_count("families in the request", len(families), CFG.limits.max_families_per_explain)
            if not 1 <= k <= 50:
                raise RequestRejected(422, f"top_k={k} is not allowed; allowed: 1 to 50")
        except RequestRejected as err:
            return rejected(err)
        results = explain_records(self.pmt, families, k, photo_model_version)
        logger.info("explain request_id=%s families=%d ms=%.1f", request_id(), len(results),
                    1000 * (time.perf_counter() - t0))
        return {"model": self.model_block["pmt"], "results": results}

    @bentoml.api
    def model_info(self) -> JSONObject:
        """Served model versions and aliases, decile cut points (welfare units, 9 values), the data
        fingerprint of each model's training run, and the house-cnn version the PMT consumes."""
        return {
            "pmt": {**self.pmt_entry.describe(), "cut_points_welfare": self.cut_points,
                    "kind": getattr(self.pmt, "kind", None),
                    "photo_model_version": self.photo_model_version},
            "house_cnn": ({**self.cnn_entry.describe(), "loaded": True} if self.cnn_entry is not None
                          else {"loaded": False, "reason": self.cnn_missing}),
            "limits": CFG.limits.model_dump(),
        }


# Added first = outermost: authentication answers before the body-size check or any body is read.
DesilService.add_asgi_middleware(ConnectionRecycleMiddleware, max_requests=CFG.service.max_requests_per_connection)
DesilService.add_asgi_middleware(
    ConnectionBalanceMiddleware, workers=CFG.service.workers if CFG.service.balance_connections else 1,
    slack=CFG.service.balance_slack, idle_s=CFG.service.connection_idle_s,
    worker_index=lambda: bentoml.server_context.worker_index)
DesilService.add_asgi_middleware(BearerTokenMiddleware, auth=CFG.auth)
DesilService.add_asgi_middleware(BodySizeLimitMiddleware, limits=CFG.limits)
