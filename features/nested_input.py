"""Conversion between the two-table form (families + members) and the nested form (one row per family
with a `members` column holding a list of member records), which is what JSON requests, the
registered MLflow model and single-file Parquet uploads carry.

`members` may hold a list of dicts, a numpy array of dicts (as pyarrow returns list<struct>), or a JSON
string of that list. Member records may omit `family_id`; it is taken from their family's row.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

MEMBERS_COLUMN = "members"


def _as_records(value: Any) -> list[dict]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list):
        raise ValueError(f"'members' must be a list of member records, got {type(value).__name__}")
    return [dict(v) for v in value]


def split_nested(nested: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(families, members) from a nested frame. Families keep their input order; members get their
    family's `family_id` (an explicit, different family_id in a member record is kept so that
    validation can report it)."""
    if MEMBERS_COLUMN not in nested.columns:
        raise ValueError("input has no 'members' column: send each family with its list of members")
    families = nested.drop(columns=[MEMBERS_COLUMN]).reset_index(drop=True)
    records: list[dict] = []
    for fid, value in zip(nested["family_id"].tolist(), nested[MEMBERS_COLUMN].tolist(), strict=True):
        for rec in _as_records(value):
            rec.setdefault("family_id", fid)
            records.append(rec)
    members = pd.DataFrame.from_records(records) if records else pd.DataFrame({"family_id": pd.Series(dtype="string")})
    return families, members


def to_nested(families: pd.DataFrame, members: pd.DataFrame, json_members: bool = False) -> pd.DataFrame:
    """Nested frame: families with a `members` column (list of dicts, or JSON strings if json_members)."""
    cols = [c for c in members.columns if c != "family_id"]
    grouped: dict[str, list[dict]] = {}
    clean = members[cols].astype(object).where(members[cols].notna(), None)
    for fid, rec in zip(members["family_id"].tolist(), clean.to_dict(orient="records"), strict=True):
        grouped.setdefault(fid, []).append(rec)
    out = families.copy()
    lists = [grouped.get(fid, []) for fid in out["family_id"].tolist()]
    out[MEMBERS_COLUMN] = [json.dumps(v, default=_json_default) for v in lists] if json_members else lists
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json_records(families: pd.DataFrame, members: pd.DataFrame) -> list[dict[str, Any]]:
    """Families as a client sends them over HTTP: JSON-ready dicts with a `members` list (nulls as None)."""
    nested = to_nested(families, members, json_members=True)
    rows = json.loads(nested.drop(columns=[MEMBERS_COLUMN]).to_json(orient="records"))
    for row, mem in zip(rows, nested[MEMBERS_COLUMN].tolist(), strict=True):
        row[MEMBERS_COLUMN] = json.loads(mem)
    return rows
