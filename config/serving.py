"""Configuration of the BentoML scoring service (config/serving.yaml): models, auth, request limits.

Units: bytes for body/image sizes, pixels (width x height) for images, families/photos for counts,
milliseconds for batching latency, seconds for timeouts.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field, PositiveInt

from config import StrictModel, load_yaml


class ServedModelsConfig(StrictModel):
    """Which registered models the service loads; a pinned reference wins over the alias."""

    pmt_alias: str = Field(min_length=1)
    cnn_alias: str = Field(min_length=1)
    pmt_ref: str | None = None
    cnn_ref: str | None = None
    pmt_ref_env: str = "DESIL_PMT_MODEL"
    cnn_ref_env: str = "DESIL_CNN_MODEL"
    photos_required: bool = False

    def pmt_reference(self) -> str:
        """The PMT reference in force: env, else pmt_ref, else '@<pmt_alias>'."""
        return os.environ.get(self.pmt_ref_env) or self.pmt_ref or f"@{self.pmt_alias}"

    def cnn_reference(self) -> str:
        """The house-cnn reference in force: env, else cnn_ref, else '@<cnn_alias>'."""
        return os.environ.get(self.cnn_ref_env) or self.cnn_ref or f"@{self.cnn_alias}"


class AuthConfig(StrictModel):
    """Bearer-token authentication: where token hashes come from and which paths are public."""

    token_hashes_file_env: str = "DESIL_TOKEN_HASHES_FILE"
    token_hashes_env: str = "DESIL_TOKEN_HASHES"
    public_paths: list[str]
    docs_public: bool = True
    docs_paths: list[str] = Field(default_factory=list)
    docs_prefixes: list[str] = Field(default_factory=list)


class LimitsConfig(StrictModel):
    """What one request may carry; beyond it the service answers 413 with the limit in the message."""

    max_families_per_request: int = Field(ge=1)
    max_families_per_file: int = Field(ge=1)
    max_families_per_explain: int = Field(ge=1)
    max_photos_per_request: int = Field(ge=1)
    max_image_bytes: int = Field(ge=1)
    max_image_pixels: int = Field(ge=1)
    min_image_side: int = Field(ge=1)
    default_body_bytes: int = Field(ge=1)
    body_bytes: dict[str, int] = Field(default_factory=dict)

    def body_limit(self, path: str) -> int:
        """Largest request body (bytes) accepted on `path`."""
        return self.body_bytes.get(path.rstrip("/") or "/", self.default_body_bytes)


class ServiceRuntimeConfig(StrictModel):
    """BentoML runtime settings and the batching of the single-family route."""

    workers: int = Field(ge=1)
    threads: int = Field(ge=1)
    timeout_s: float = Field(gt=0)
    max_concurrency: int = Field(ge=1)
    rank_family_max_batch_size: int = Field(ge=2)
    rank_family_batch_window_ms: float = Field(ge=0, le=1000)
    max_requests_per_connection: int = Field(ge=0, description="Connection: close after this many (0: never)")
    balance_connections: bool = Field(description="close connections of a worker holding more than its share")
    balance_slack: int = Field(ge=0, description="connections a worker may hold beyond its even share")
    connection_idle_s: float = Field(gt=0, le=60, description="a connection idle this long counts no more")
    gc_thresholds: tuple[PositiveInt, PositiveInt, PositiveInt] = Field(
        description="gc.set_threshold in each worker after loading (0 would switch a generation off)")
    explain_top_k: int = Field(ge=1, le=50)


class ServingConfig(StrictModel):
    models: ServedModelsConfig
    auth: AuthConfig
    limits: LimitsConfig
    service: ServiceRuntimeConfig


@lru_cache(maxsize=1)
def serving_config() -> ServingConfig:
    """config/serving.yaml (or the file named by env DESIL_CONFIG_SERVING), validated."""
    return ServingConfig(**load_yaml("serving"))
