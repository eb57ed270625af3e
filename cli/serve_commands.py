"""`desil serve`, `desil token` and `desil pin-models`: start the scoring service, create API tokens,
and pin the served model versions into a serving config for a Bento build."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import yaml

from config import PROJECT_ROOT, load_yaml

SERVICE = "serving.service:DesilService"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind (0.0.0.0 for all)")
@click.option("--port", type=int, default=3000, show_default=True)
@click.option("--pmt", "pmt_ref", default=None,
              help="desil-pmt reference to serve (@ALIAS, VERSION, models:/desil-pmt/N); default config/serving.yaml")
@click.option("--cnn", "cnn_ref", default=None, help="house-cnn reference to serve; default config/serving.yaml")
@click.option("--tracking-uri", default=None, help="MLflow tracking URI (default: env or embedded SQLite)")
@click.option("--tokens", "token_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="file of token hashes (sets DESIL_TOKEN_HASHES_FILE)")
def serve(host: str, port: int, pmt_ref: str | None, cnn_ref: str | None, tracking_uri: str | None,
          token_file: str | None) -> None:
    """Start the BentoML scoring service (`bentoml serve serving.service:DesilService`)."""
    from config.serving import serving_config

    cfg = serving_config()
    env = dict(os.environ)
    if pmt_ref:
        env[cfg.models.pmt_ref_env] = pmt_ref
    if cnn_ref:
        env[cfg.models.cnn_ref_env] = cnn_ref
    if tracking_uri:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    if token_file:
        env[cfg.auth.token_hashes_file_env] = str(Path(token_file).resolve())
    bentoml = Path(sys.executable).parent / "bentoml"
    args = [str(bentoml), "serve", SERVICE, "--host", host, "--port", str(port), "--working-dir", str(PROJECT_ROOT)]
    click.echo(f"starting {SERVICE} on http://{host}:{port} (Swagger UI at /, readiness at /readyz)", err=True)
    os.execve(args[0], args, env)


@click.group("token")
def token() -> None:
    """API bearer tokens: the service stores only their SHA-256 hashes."""


@token.command("create")
@click.option("--label", default="client", show_default=True, help="who the token is for (kept beside the hash)")
def token_create(label: str) -> None:
    """Print a new token (give it to the client, once) and the line to add to the token-hash file."""
    from serving.auth import hash_token, new_token

    if any(c.isspace() for c in label) or "#" in label:
        raise click.BadParameter("use a label without spaces or '#'", param_hint="--label")
    value = new_token()
    click.echo(f"token (give to the client; it is not stored anywhere): {value}")
    click.echo("line for the token-hash file (DESIL_TOKEN_HASHES_FILE):")
    click.echo(f"{hash_token(value)} {label}")


@token.command("hash")
def token_hash() -> None:
    """Read a token on stdin and print its hash line (to re-register an existing token)."""
    from serving.auth import hash_token

    value = sys.stdin.readline().strip()
    if not value:
        raise click.UsageError("no token on stdin")
    click.echo(hash_token(value))


@click.command("pin-models")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True,
              help="serving config to write (use it with DESIL_CONFIG_SERVING or bentofile envs)")
@click.option("--tracking-uri", default=None, help="MLflow tracking URI (default: env or embedded SQLite)")
def pin_models(out_path: str, tracking_uri: str | None) -> None:
    """Resolve the served aliases to versions now and write a serving config that names those versions,
    so every replica built from it serves exactly the same models."""
    if tracking_uri:
        os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
    from serving.model_loader import ModelUnavailable
    from serving.service import resolve_served_models

    try:
        pmt, cnn, why = resolve_served_models()
    except ModelUnavailable as err:
        raise click.ClickException(str(err)) from None
    data = load_yaml("serving")
    data["models"]["pmt_ref"] = pmt.uri
    data["models"]["cnn_ref"] = cnn.uri if cnn is not None else None
    Path(out_path).write_text("# pinned by `desil pin-models`; models resolved from their aliases\n"
                              + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    click.echo(f"pinned {pmt.uri}" + (f" and {cnn.uri}" if cnn else f" (house-cnn not pinned: {why})")
               + f" into {out_path}")
