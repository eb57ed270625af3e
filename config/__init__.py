"""Project configuration: one folder of YAML files, each validated by a pydantic model.

Each YAML file in this folder holds one domain's settings (`project.yaml`: tracking and paths;
`programs.yaml`: Kepmensos 79/2025 program table; `synth.yaml`: generator assumptions; ...).
Environment variables override the few settings that differ per deployment (tracking URI,
pseudonymisation key); they are named in `project.yaml`'s model below.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr

CONFIG_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = CONFIG_DIR.parent


def load_yaml(name: str) -> dict[str, Any]:
    """Read `config/<name>.yaml` (or the file named by env `DESIL_CONFIG_<NAME>`) as a dict."""
    override = os.environ.get(f"DESIL_CONFIG_{name.upper()}")
    path = Path(override) if override else CONFIG_DIR / f"{name}.yaml"
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


class StrictModel(BaseModel):
    """Base for config models: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectConfig(StrictModel):
    """Where runs are tracked and stored (DESIGN §4: embedded SQLite default)."""

    runs_dir: str = Field(description="folder for local outputs, relative to the project root")
    tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking URI; None = sqlite file in runs_dir. Env MLFLOW_TRACKING_URI wins.",
    )
    experiment: str = "dtsen-desil"
    pmt_model_name: str = "desil-pmt"
    cnn_model_name: str = "house-cnn"
    pseudonym_key_env: str = Field(
        default="DESIL_PSEUDONYM_KEY", description="env var holding the pseudonymisation key"
    )
    pseudonym_key_file_env: str = Field(
        default="DESIL_PSEUDONYM_KEY_FILE", description="env var naming a file that holds the key"
    )

    def runs_path(self) -> Path:
        path = Path(self.runs_dir)
        return path if path.is_absolute() else PROJECT_ROOT / path

    def resolved_tracking_uri(self) -> str:
        """MLFLOW_TRACKING_URI, else the configured URI, else `sqlite:///<runs_dir>/mlflow.db`."""
        env = os.environ.get("MLFLOW_TRACKING_URI")
        if env:
            return env
        if self.tracking_uri:
            return self.tracking_uri
        return f"sqlite:///{self.runs_path() / 'mlflow.db'}"

    def pseudonym_key(self) -> SecretStr:
        """The keyed-hash key, from env or key file. Raises if neither is set: never a default key."""
        value = os.environ.get(self.pseudonym_key_env)
        if not value:
            key_file = os.environ.get(self.pseudonym_key_file_env)
            if key_file:
                value = Path(key_file).read_text(encoding="utf-8").strip()
        if not value:
            raise RuntimeError(
                f"no pseudonymisation key: set {self.pseudonym_key_env} or {self.pseudonym_key_file_env} "
                "(a file holding the key); see README 'Identifiers'"
            )
        if len(value) < 16:
            raise RuntimeError("the pseudonymisation key must be at least 16 characters long")
        return SecretStr(value)


class Program(StrictModel):
    """One social program of Kepmensos 79/HUK/2025: the deciles it takes and its national quota."""

    name: str
    max_desil: int = Field(ge=1, le=10)
    quota: int | None = Field(default=None, ge=0)
    quota_unit: str = Field(pattern="^(families|people)$")
    description: str = ""


class ProgramsConfig(StrictModel):
    """The program table and the source it follows."""

    source: str
    programs: list[Program]

    def by_name(self) -> dict[str, Program]:
        return {p.name: p for p in self.programs}


@lru_cache(maxsize=1)
def project_config() -> ProjectConfig:
    return ProjectConfig(**load_yaml("project"))


@lru_cache(maxsize=1)
def programs_config() -> ProgramsConfig:
    return ProgramsConfig(**load_yaml("programs"))
