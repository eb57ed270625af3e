"""Model-registry references in one place: build and parse `models:/name@alias` style URIs.

Accepted references (CLI, config, serving): `models:/NAME@ALIAS`, `models:/NAME/VERSION`,
`runs:/RUN_ID/PATH`, `@ALIAS` or `VERSION` (of the default model name), or a bare 32-hex run id
(its `model` artifact).
"""

from __future__ import annotations

import re

from mlflow.tracking import MlflowClient

RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def model_uri(name: str, alias: str | None = None, version: str | int | None = None) -> str:
    """`models:/name@alias` or `models:/name/version` (exactly one of alias/version)."""
    if (alias is None) == (version is None):
        raise ValueError("give exactly one of alias or version")
    return f"models:/{name}@{alias}" if alias is not None else f"models:/{name}/{version}"


def normalise_ref(ref: str, default_name: str) -> str:
    """Turn any accepted reference into a URI mlflow.pyfunc.load_model understands."""
    ref = ref.strip()
    if ref.startswith(("models:/", "runs:/")):
        return ref
    if ref.startswith("@"):
        return model_uri(default_name, alias=ref[1:])
    if ref.isdigit():
        return model_uri(default_name, version=ref)
    if RUN_ID.match(ref):
        return f"runs:/{ref}/model"
    raise ValueError(f"not a model reference: {ref!r}; use models:/NAME@ALIAS, models:/NAME/VERSION, "
                     "@ALIAS, VERSION, runs:/RUN_ID/model or a run id")


def resolve_version(uri: str) -> tuple[str | None, str | None, str | None]:
    """(registered name, version, run id) behind a models:/ or runs:/ URI, aliases resolved now
    (a registry look-up). Other URIs give (None, None, None)."""
    if uri.startswith("models:/"):
        client = MlflowClient()
        body = uri[len("models:/"):]
        if "@" in body:
            name, alias = body.split("@", 1)
            mv = client.get_model_version_by_alias(name, alias)
        else:
            name, version = body.rsplit("/", 1)
            mv = client.get_model_version(name, version)
        return mv.name, str(mv.version), mv.run_id
    if uri.startswith("runs:/"):
        return None, None, uri[len("runs:/"):].split("/", 1)[0]
    return None, None, None
