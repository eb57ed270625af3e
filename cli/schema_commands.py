"""`desil schema`, `desil validate` and `desil pseudonymise`: print/export the data contract, validate
families + members files, and turn a real identifier column into `family_id`.

These commands only parse options, read/write files and call `features.schema`, `features.validation`,
`features.json_schema` and `features.pseudonym`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from features import schema as contract
from features.schema import FieldSpec

TABLE_CHOICES = [*contract.TABLES, "all"]
SHOWN_PROBLEMS = 20


def _tables(table: str) -> list[str]:
    return list(contract.TABLES) if table == "all" else [table]


def _allowed_lines(spec: FieldSpec) -> str:
    """The allowed values, one code per line for categories (for the text and markdown views)."""
    if spec.kind == "category":
        return "\n".join(f"{c.code} {c.label_id} ({c.label_en})" for c in spec.categories)
    if spec.kind in ("int", "float"):
        lo = "-inf" if spec.minimum is None else f"{spec.minimum:g}"
        hi = "inf" if spec.maximum is None else f"{spec.maximum:g}"
        return f"{lo} .. {hi}"
    if spec.kind == "region":
        return spec.source or "BPS region code"
    if spec.kind == "bool":
        return "true / false"
    return f"pattern {spec.pattern}" if spec.pattern else "any text"


def _text_view(tables: list[str], console: Console) -> None:
    for table in tables:
        view = Table(title=f"{table} ({len(contract.table_fields(table))} fields)", show_lines=True)
        view.add_column("field", no_wrap=True)
        for col in ("type", "unit", "nullable", "allowed / range", "description"):
            view.add_column(col, overflow="fold")
        for spec in contract.table_fields(table):
            view.add_row(spec.name, f"{spec.kind} ({spec.pandas_dtype()})", spec.unit or "",
                         "yes" if spec.nullable else "no", _allowed_lines(spec), spec.description)
        console.print(view)


def _markdown_view(tables: list[str]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", "<br>")

    lines = ["# DTSEN data contract", "", "Generated from `features/schema.py` by `desil schema --format markdown`.", ""]
    for table in tables:
        lines += [f"## {table}", "", "| field | type | unit | nullable | allowed / range | description |",
                  "|---|---|---|---|---|---|"]
        for spec in contract.table_fields(table):
            lines.append("| " + " | ".join(cell(x) for x in (
                f"`{spec.name}`", f"{spec.kind} ({spec.pandas_dtype()})", spec.unit or "",
                "yes" if spec.nullable else "no", _allowed_lines(spec), spec.description)) + " |")
        lines.append("")
    return "\n".join(lines)


@click.command("schema")
@click.option("--table", type=click.Choice(TABLE_CHOICES), default="all", show_default=True,
              help="which table to show")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json-schema"]), default="text",
              show_default=True, help="text: tables on screen; markdown: for docs; json-schema: draft 2020-12")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write to this file instead of the screen")
def schema(table: str, fmt: str, out: Path | None) -> None:
    """Print the DTSEN data contract (fields, types, units, codes, ranges) or export it as JSON Schema."""
    tables = _tables(table)
    if fmt == "text":
        if out is None:
            _text_view(tables, Console())
            return
        with out.open("w", encoding="utf-8") as fh:
            _text_view(tables, Console(file=fh, width=160, force_terminal=False))
    else:
        if fmt == "markdown":
            text = _markdown_view(tables)
        else:
            from features.json_schema import contract_schema, table_row_schema

            document = contract_schema() if table == "all" else table_row_schema(table)
            text = json.dumps(document, indent=2, ensure_ascii=False)
        if out is None:
            click.echo(text)
        else:
            out.write_text(text + "\n", encoding="utf-8")
    if out is not None:
        click.echo(f"wrote {out}")


def _read_table(path: Path, string_columns: list[str] | None = None) -> pd.DataFrame:
    """Read Parquet, or CSV (other columns inferred; `string_columns` kept as text)."""
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, dtype=dict.fromkeys(string_columns or [], str), keep_default_na=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise click.BadParameter(f"{path}: expected a .parquet or .csv file")


def _write_table(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)


@click.command("validate")
@click.option("--families", "families_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="families .parquet or .csv")
@click.option("--members", "members_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="members .parquet or .csv")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write every problem here (.csv or .parquet)")
def validate(families_path: Path, members_path: Path, report: Path | None) -> None:
    """Validate a families and a members file against the contract; exit code 1 if any error."""
    from features.validation import validate_population

    console = Console()
    id_cols = ["family_id", "province_code", "regency_code"]
    with console.status("reading"):
        families = _read_table(families_path, id_cols)
        members = _read_table(members_path, ["family_id"])
    with console.status(f"validating {len(families):,} families and {len(members):,} members"):
        result = validate_population(families, members)
    problems = result.problems
    n_err, n_warn = len(result.errors), len(result.warnings)
    console.print(f"families: {len(families):,} in, {len(result.valid_families):,} valid, "
                  f"{len(result.rejected_family_ids):,} family ids rejected; members: {len(members):,} in, "
                  f"{len(result.valid_members):,} valid")
    console.print(f"problems: {n_err:,} errors, {n_warn:,} warnings")
    if len(problems):
        counts = problems.groupby(["severity", "check", "field"]).size().sort_values(ascending=False)
        summary = Table(title="problems by kind")
        for col in ("severity", "check", "field", "count"):
            summary.add_column(col)
        for (sev, check, fld), n in counts.head(30).items():
            summary.add_row(sev, check, fld, f"{n:,}")
        console.print(summary)
        console.print(f"first {min(SHOWN_PROBLEMS, len(problems))} problems:")
        for msg in problems["message"].head(SHOWN_PROBLEMS):
            console.print(f"  {msg}", markup=False, highlight=False)
    if report is not None:
        _write_table(problems, report)
        console.print(f"wrote {len(problems):,} problems to {report}")
    if n_err:
        raise SystemExit(1)


@click.command("pseudonymise")
@click.option("--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a .csv or .parquet file holding a real identifier column")
@click.option("--column", required=True, help="the identifier column to replace (e.g. no_kk)")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="output .parquet (or .csv); never the input file")
@click.option("--drop", multiple=True, help="further identifier columns to drop (e.g. nama); repeatable")
@click.option("--prefix", default="K", show_default=True, help="prefix of the family ids")
def pseudonymise(input_path: Path, column: str, out: Path, drop: tuple[str, ...], prefix: str) -> None:
    """Replace an identifier column (KK number) by family_id, a keyed hash; the key comes from the
    environment (DESIL_PSEUDONYM_KEY or DESIL_PSEUDONYM_KEY_FILE) and is never printed."""
    from config import project_config
    from features.pseudonym import pseudonymise_series
    from features.validation import forbidden_columns

    if out.resolve() == input_path.resolve():
        raise click.BadParameter("--out must differ from --input: inputs are never overwritten")
    try:
        key = project_config().pseudonym_key()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    df = _read_table(input_path, [column])
    if column not in df.columns:
        raise click.BadParameter(f"column {column!r} is not in {input_path.name}; columns: {list(df.columns)}")
    if "family_id" in df.columns:
        raise click.BadParameter(f"{input_path.name} already has a family_id column")
    missing = [c for c in drop if c not in df.columns]
    if missing:
        raise click.BadParameter(f"--drop column(s) {missing} not in {input_path.name}")
    left = [c for c in forbidden_columns(df.columns.drop([column, *drop])) if c != column]
    if left:
        raise click.ClickException(f"identifier column(s) {left} would remain in the output; add --drop for each")
    try:
        ids = pseudonymise_series(df[column], key, prefix=prefix)
    except (ValueError, TypeError) as exc:
        raise click.ClickException(f"{column}: {exc}") from None
    result = df.drop(columns=[column, *drop])
    result.insert(0, "family_id", ids)
    _write_table(result, out)
    click.echo(f"wrote {len(result):,} rows to {out}: {column!r} replaced by family_id"
               + (f", dropped {list(drop)}" if drop else ""))
