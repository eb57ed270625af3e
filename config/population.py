"""Configuration of the population re-ranking job (config/population.yaml).

Units: families rows for chunk_size, threads for score_threads.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from config import StrictModel, load_yaml


class PopulationConfig(StrictModel):
    """Chunking and parallelism of `desil rank-population`."""

    chunk_size: int = Field(ge=1)
    score_threads: int = Field(ge=1, le=64)


@lru_cache(maxsize=1)
def population_config() -> PopulationConfig:
    """config/population.yaml (or the file named by env DESIL_CONFIG_POPULATION), validated."""
    return PopulationConfig(**load_yaml("population"))
