"""The MLflow signature of the registered PMT model, built from the data contract (features/schema.py),
not inferred from an example: every schema field is declared, nullable fields are optional.

Family columns: required codes and counts are `long`, required flags `boolean`, ids and region codes
`string`. Nullable family columns are `any`: in pandas a column with a missing value turns float64
(or object for flags), while the same column without one stays int64, and MLflow refuses both
int64->double and NaN->long. The validator (features/validation.py) then checks them against the
contract and reports bad values per family. Member objects: codes and counts `long` (a missing
optional value is JSON null), measurements `double`, flags `boolean`.
"""

from __future__ import annotations

from mlflow.models import ModelSignature
from mlflow.types.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
)

from features.nested_input import MEMBERS_COLUMN
from features.schema import FieldSpec, table_fields
from models.ranking import SCORE_COLUMNS


def _dtype(spec: FieldSpec, column: bool = True) -> DataType | AnyType:
    """MLflow type of a field, as a DataFrame column (column=True) or as a member-object property."""
    if column and spec.nullable:
        return AnyType()
    if spec.kind in ("string", "region"):
        return DataType.string
    if spec.kind == "bool":
        return DataType.boolean
    if spec.kind == "float":
        return DataType.double
    return DataType.long


def input_schema(photo_columns: list[str] | None = None) -> Schema:
    """Families fields + `members` (array of member objects without family_id) + optional photo columns."""
    cols = [ColSpec(_dtype(f), f.name, required=not f.nullable) for f in table_fields("families")]
    member_props = [Property(f.name, _dtype(f, column=False), required=not f.nullable)
                    for f in table_fields("members") if f.name != "family_id"]
    cols.append(ColSpec(Array(Object(member_props)), MEMBERS_COLUMN))
    cols += [ColSpec(DataType.double, c, required=False) for c in (photo_columns or [])]
    return Schema(cols)


def output_schema(program_names: list[str]) -> Schema:
    cols = [ColSpec(DataType.string, "family_id")]
    cols += [ColSpec(DataType.double, c, required=False) for c in SCORE_COLUMNS if c != "desil"]
    cols.insert(3, ColSpec(DataType.long, "desil", required=False))
    cols += [ColSpec(DataType.string, "exclusion_rule", required=False),
             ColSpec(DataType.string, "programs", required=False)]
    cols += [ColSpec(DataType.boolean, f"eligible_{p}", required=False) for p in program_names]
    cols.append(ColSpec(DataType.string, "error", required=False))
    return Schema(cols)


def pmt_signature(program_names: list[str], photo_columns: list[str] | None = None) -> ModelSignature:
    params = ParamSchema([ParamSpec("photo_model_version", DataType.string, "")])
    return ModelSignature(inputs=input_schema(photo_columns), outputs=output_schema(program_names), params=params)
