"""Resolve and load the served models from the MLflow registry, refusing clearly when one is missing.

The tracking/registry URI is project_config().resolved_tracking_uri() (env MLFLOW_TRACKING_URI, else
config/project.yaml, else the embedded SQLite store). References follow models.registry_uri
(`@ALIAS`, `VERSION`, `models:/NAME@ALIAS`, `models:/NAME/VERSION`, `runs:/RUN/model`). Resolving
asks the registry only (no artifact download), so the service's pre-start check is fast; loading
downloads the artifacts and builds the pyfunc.

serving/ never imports training/: the tracking set-up is done here with mlflow's own calls.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from config import project_config
from models.registry_uri import normalise_ref

logger = logging.getLogger("desil.serving")

FIX_PMT = ("train and register one: `desil train pmt --data <population folder> --register --alias {alias}` "
           "(or point alias '{alias}' at an existing version in the MLflow UI: Models > {name} > version > Aliases)")
FIX_CNN = "train and register one: `desil train cnn --manifest <photos manifest> --register --alias {alias}`"


class ModelUnavailable(RuntimeError):
    """A served model or alias does not exist; the message names it, the store, and the fix."""


@dataclass(frozen=True)
class ResolvedModel:
    """A registry entry the service serves. `version` is None only for a runs:/ reference."""

    name: str
    reference: str
    uri: str
    version: str | None
    aliases: tuple[str, ...] = ()
    run_id: str | None = None
    data_fingerprint: str | None = None
    created_at_ms: int | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary (model_info)."""
        return {"name": self.name, "version": self.version, "reference": self.reference, "uri": self.uri,
                "aliases": list(self.aliases), "run_id": self.run_id, "data_fingerprint": self.data_fingerprint,
                "created_at_ms": self.created_at_ms}


def _store_label(uri: str) -> str:
    """The store as it may be shown: a file path or scheme+host, never credentials."""
    if uri.startswith("sqlite:///"):
        return uri
    scheme, _, rest = uri.partition("://")
    host = rest.split("@")[-1].split("/")[0]
    return f"{scheme}://{host}" if rest else uri


def configure_registry() -> str:
    """Point MLflow tracking and registry at the configured store; returns a printable label of it.

    An embedded SQLite store that does not exist is refused (MLflow would create an empty one)."""
    uri = project_config().resolved_tracking_uri()
    if uri.startswith("sqlite:///"):
        path = Path(uri[len("sqlite:///"):])
        if not path.is_file():
            raise ModelUnavailable(
                f"no MLflow store at {path} (tracking URI {uri}): set MLFLOW_TRACKING_URI to the store that holds "
                "the registered models, or train and register them first: "
                "`desil train pmt --data <population folder> --register --alias champion`")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return _store_label(uri)


def _missing(err: MlflowException) -> bool:
    return getattr(err, "error_code", "") in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "INVALID_PARAMETER_VALUE")


def resolve_model(name: str, reference: str, fix: str, store: str, client: MlflowClient | None = None) -> ResolvedModel:
    """Look `reference` (of registered model `name`) up in the registry.

    Raises ModelUnavailable naming the model, the alias or version, the store, what does exist, and
    `fix` (formatted with name and alias) when it is missing."""
    client = client or MlflowClient()
    uri = normalise_ref(reference, name)
    if uri.startswith("runs:/"):
        run_id = uri.split("/")[1]
        try:
            run = client.get_run(run_id)
        except MlflowException as err:
            raise ModelUnavailable(f"run {run_id} not found in the MLflow store {store}: {err.message}") from None
        return ResolvedModel(name=name, reference=reference, uri=uri, version=None, run_id=run_id,
                             data_fingerprint=run.data.tags.get("data_fingerprint"), tags=dict(run.data.tags))
    target = uri[len("models:/"):]
    model_name, alias, version = target, None, None
    if "@" in target:
        model_name, alias = target.split("@", 1)
    elif "/" in target:
        model_name, version = target.split("/", 1)
    hint = fix.format(name=model_name, alias=alias or "champion")
    try:
        registered = client.get_registered_model(model_name)
    except MlflowException as err:
        if _missing(err):
            raise ModelUnavailable(f"no registered model '{model_name}' in the MLflow store {store}; {hint}") from None
        raise
    try:
        mv = (client.get_model_version_by_alias(model_name, alias) if alias is not None
              else client.get_model_version(model_name, str(version)))
    except MlflowException as err:
        if not _missing(err):
            raise
        known = sorted((registered.aliases or {}).items())
        what = f"alias '{alias}'" if alias is not None else f"version {version}"
        have = ", ".join(f"{a} -> v{v}" for a, v in known) or "no aliases"
        raise ModelUnavailable(
            f"registered model '{model_name}' has no {what} in the MLflow store {store} (it has {have}); {hint}"
        ) from None
    fingerprint = None
    tags: dict[str, str] = {}
    if mv.run_id:
        try:
            run_tags = client.get_run(mv.run_id).data.tags
            tags = dict(run_tags)
            fingerprint = run_tags.get("data_fingerprint")
        except MlflowException:
            logger.warning("run %s of %s v%s is not readable; data fingerprint unknown", mv.run_id, model_name,
                           mv.version)
    return ResolvedModel(name=model_name, reference=reference, uri=f"models:/{model_name}/{mv.version}",
                         version=str(mv.version), aliases=tuple(sorted(mv.aliases or ())), run_id=mv.run_id,
                         data_fingerprint=fingerprint, created_at_ms=mv.creation_timestamp, tags=tags)


def load_pmt(resolved: ResolvedModel) -> Any:
    """The models.pmt.PMTModel inside the registered desil-pmt pyfunc (cut points required)."""
    pyfunc = mlflow.pyfunc.load_model(resolved.uri)
    model = getattr(pyfunc.unwrap_python_model(), "model", None)
    if model is None or getattr(model, "cut_points", None) is None:
        raise ModelUnavailable(f"{resolved.name} v{resolved.version} holds no fitted PMT model with cut points; "
                               "re-register it with `desil train pmt ... --register`")
    return model


def load_cnn(resolved: ResolvedModel) -> mlflow.pyfunc.PyFuncModel:
    """The registered house-cnn pyfunc (predict(DataFrame with image_path) -> prob_*/<head>_label)."""
    return mlflow.pyfunc.load_model(resolved.uri)
