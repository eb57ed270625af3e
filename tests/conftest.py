"""Shared fixtures: small synthetic populations generated once per test session (real generator,
real Parquet files). Larger populations are built inside the tests that need them."""

from __future__ import annotations

from pathlib import Path

import pytest

SMALL_FAMILIES = 3000
SMALL_SEED = 7


@pytest.fixture(scope="session")
def small_population():
    """An in-memory population of 3,000 families (families, members, truth, survey)."""
    from data.synth import generate_population

    return generate_population(SMALL_FAMILIES, seed=SMALL_SEED)


@pytest.fixture(scope="session")
def small_population_dir(tmp_path_factory) -> Path:
    """The same population written as Parquet files by the streaming writer."""
    from data.synth import write_population

    out = tmp_path_factory.mktemp("population")
    write_population(SMALL_FAMILIES, seed=SMALL_SEED, out_dir=out, progress=False)
    return out


@pytest.fixture
def pseudonym_key(monkeypatch) -> str:
    """A test-only pseudonymisation key in the environment (never a default key in code)."""
    key = "test-key-not-for-production-0123456789"
    monkeypatch.setenv("DESIL_PSEUDONYM_KEY", key)
    return key
