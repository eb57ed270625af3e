"""The `desil` command line: one group, one subcommand module per job; each module only parses
options and calls into data/, features/, models/, training/ or serving/.

Subcommand modules are imported lazily so that `desil --help` stays fast and `desil schema` does
not import torch or MLflow.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command or group
SUBCOMMANDS: dict[str, str] = {
    "schema": "cli.schema_commands:schema",
    "validate": "cli.schema_commands:validate",
    "pseudonymise": "cli.schema_commands:pseudonymise",
    "data": "cli.data_commands:data",
    "demo": "cli.demo_command:demo",
    "train": "cli.train_commands:train",
    "compare": "cli.train_commands:compare",
    "rank-population": "cli.population_commands:rank_population",
    "transitions": "cli.population_commands:transitions",
    "quota": "cli.population_commands:quota",
    "serve": "cli.serve_commands:serve",
    "token": "cli.serve_commands:token",
    "pin-models": "cli.serve_commands:pin_models",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dtsen-desil")
def cli() -> None:
    """dtsen-desil: rank DTSEN families into national welfare deciles (desil 1-10)."""


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
