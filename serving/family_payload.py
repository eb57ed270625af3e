"""JSON families in, JSON results out: the conversions behind the `rank`, `rank_family` and `explain`
routes. Scoring itself is models.pmt_pyfunc.rank_tables (what the registered model's rank_nested calls).

A request family is a JSON object with the families-table fields and `members`: a list of member
objects (features.nested_input). Structural faults that make a family unusable as a table row (no
family_id, `members` not a list of objects) are reported for that family alone; everything else is
left to features.validation, which reports per family (id, field, value, allowed) inside rank_tables.
Results come back in request order, one per request family.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from features.nested_input import MEMBERS_COLUMN
from features.schema import table_fields
from features.validation import WITHHELD, identifier_like_mask, validate_population
from models.pmt_pyfunc import rank_tables, split_photo_features
from models.ranking import problems_by_family

PROGRAMS_COLUMN = "programs"
# Contract fields a JSON object may leave out (they read as null, as in features.validation's JSON path).
FAMILY_KEYS: tuple[str, ...] = tuple(f.name for f in table_fields("families"))
MEMBER_KEYS: tuple[str, ...] = tuple(f.name for f in table_fields("members") if f.name != "family_id")
_FAMILY_KEY_SET = frozenset(FAMILY_KEYS) | {MEMBERS_COLUMN}
_MEMBER_KEY_SET = frozenset(MEMBER_KEYS) | {"family_id"}


def structural_error(position: int, family: Any) -> str | None:
    """Why request family number `position` cannot become a table row, or None when it can."""
    if not isinstance(family, dict):
        return f"family number {position} of the request is a {type(family).__name__}, not a JSON object"
    fid = family.get("family_id")
    if fid is None or (isinstance(fid, str) and not fid.strip()):
        return f"family number {position} of the request: family_id is missing (a non-empty string is required)"
    if not isinstance(fid, (str, int)) or isinstance(fid, bool):
        return (f"family number {position} of the request: family_id {fid!r} is a {type(fid).__name__}; "
                "allowed: a pseudonymous string id")
    members = family.get(MEMBERS_COLUMN, [])
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        return f"family {fid}: 'members' must be a list of member objects"
    return None


def request_tables(families: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(families table, members table) of structurally usable request families (`structural_error` is
    None for each): every contract field (absent keys read as null), extra keys as sent, family_id as
    text. A member gets its family's id unless it carries one (kept, so that validation reports an id
    that contradicts its family); a family without `members` has no member rows (validation reports
    'has no members'). The same tables split_nested makes of the nested form, without building it."""
    family_blank = dict.fromkeys(FAMILY_KEYS)
    member_blank = dict.fromkeys(MEMBER_KEYS)
    family_rows: list[dict[str, Any]] = []
    member_rows: list[dict[str, Any]] = []
    for fam in families:
        fid = str(fam["family_id"])
        row = {**family_blank, **fam}
        row.pop(MEMBERS_COLUMN, None)
        row["family_id"] = fid
        family_rows.append(row)
        for member in fam.get(MEMBERS_COLUMN, []):
            record = {**member_blank, **member}
            record.setdefault("family_id", fid)
            member_rows.append(record)
    members = (pd.DataFrame.from_records(member_rows) if member_rows
               else pd.DataFrame({"family_id": pd.Series(dtype="string")}))
    return pd.DataFrame.from_records(family_rows), members


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready records of a result frame: NaN/NA -> null, numpy scalars -> Python, `programs`
    (';'-joined names) -> list of names."""
    columns: dict[str, list[Any]] = {}
    for col, series in frame.items():
        if col == PROGRAMS_COLUMN:
            columns[col] = [v.split(";") if isinstance(v, str) and v else []
                            for v in series.to_numpy(dtype=object, na_value=None).tolist()]
        elif series.dtype == np.float64:
            columns[col] = [None if v != v else v for v in series.to_numpy().tolist()]  # NaN -> null
        else:
            values = series.to_numpy(dtype=object, na_value=None).tolist()
            columns[col] = [v.item() if isinstance(v, np.generic) else v for v in values]
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def error_record(family: Any, message: str) -> dict[str, Any]:
    fid = family.get("family_id") if isinstance(family, dict) else None
    return {"family_id": None if fid is None else str(fid), "error": message}


def _split_structural(families: list[dict[str, Any]], one_request: bool = True,
                      ) -> tuple[list[dict[str, Any] | None], list[int]]:
    """(records list with an error record at each structurally unusable family, indices of the usable).
    one_request: the families are one request's, where a family_id sent twice is ambiguous: every copy
    gets an error (as a repeated id in a Parquet upload or a batch file rejects every copy)."""
    out: list[dict[str, Any] | None] = [None] * len(families)
    usable: list[int] = []
    for i, fam in enumerate(families):
        problem = structural_error(i, fam)
        if problem is None:
            usable.append(i)
        else:
            out[i] = error_record(fam, problem)
    if not one_request:
        return out, usable
    ids = {i: str(families[i]["family_id"]) for i in usable}
    counts = Counter(ids.values())
    if all(n == 1 for n in counts.values()):
        return out, usable
    kept = []
    for i, fid in ids.items():
        if counts[fid] > 1:
            shown = WITHHELD if identifier_like_mask(pd.Series([fid]))[0] else fid
            out[i] = error_record(families[i], f"family {shown}: family_id appears {counts[fid]} times in the request; "
                                               "allowed: each family_id once per request")
        else:
            kept.append(i)
    return out, kept


def rank_records(model: Any, families: list[dict[str, Any]], photo_model_version: str | None,
                 one_request: bool = True) -> list[dict[str, Any]]:
    """Score a list of request families; one record per family in request order.

    Families that are structurally unusable, sent twice in one request (one_request; False when the list
    gathers several requests' families, which may each send the same family), rejected by validation, or
    whose group fails as a whole (e.g. photo features from the wrong house-cnn version) come back with
    `error` set. With one_request False, an exact copy of an earlier family is scored once and gets a
    copy of that result."""
    out, usable = _split_structural(families, one_request)
    copies: dict[int, int] = {} if one_request else _identical_copies(families, usable)
    if copies:
        usable = [i for i in usable if i not in copies]
    for group in _uniform_groups(families, usable):
        fam_frame, mem_frame = request_tables([families[i] for i in group])
        try:
            ranked = rank_tables(model, fam_frame, mem_frame, photo_model_version)
        except ValueError as err:  # a whole-group refusal (e.g. PhotoModelMismatch): report per family
            for i in group:
                out[i] = error_record(families[i], str(err))
            continue
        for i, rec in zip(group, records(ranked), strict=True):
            out[i] = rec
    for i, first in copies.items():
        out[i] = dict(out[first]) if out[first] is not None else None
    done = [r if r is not None else error_record(families[i], "family was not scored") for i, r in enumerate(out)]
    return _same_keys(done)


def _identical_copies(families: list[dict[str, Any]], positions: list[int]) -> dict[int, int]:
    """{position: earlier position} for families that repeat an earlier one exactly (same family_id, same
    content): several requests gathered into one call may send the same family, whose result is then
    computed once. A family_id sent again with other content is not a copy (it is scored on its own)."""
    first: dict[str, list[int]] = {}
    copies: dict[int, int] = {}
    for i in positions:
        earlier = first.setdefault(str(families[i]["family_id"]), [])
        same = next((j for j in earlier if families[j] == families[i]), None)
        if same is None:
            earlier.append(i)
        else:
            copies[i] = same
    return copies


def _same_keys(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give structural-error records the keys of the scored ones (null values), so every result of a
    response has the same fields."""
    keys = max((r.keys() for r in results), key=len, default=())
    blank = dict.fromkeys(keys)
    return [r if len(r) == len(keys) else {**blank, **r} for r in results]


def _uniform_groups(families: list[dict[str, Any]], positions: list[int]) -> list[list[int]]:
    """Split positions into groups that can be scored as one table without affecting each other:
    the same keys beyond the contract (an unknown column rejects a whole table; photo_* columns travel
    together), and each family_id at most once (a repeated id rejects every copy). Usually one group."""
    groups: list[tuple[tuple, set[str], list[int]]] = []
    for i in positions:
        fam = families[i]
        member_extra = frozenset(k for m in fam.get(MEMBERS_COLUMN, []) for k in m if k not in _MEMBER_KEY_SET)
        signature = (frozenset(k for k in fam if k not in _FAMILY_KEY_SET), member_extra)
        fid = str(fam["family_id"])
        for sig, ids, members in groups:
            if sig == signature and fid not in ids:
                ids.add(fid)
                members.append(i)
                break
        else:
            groups.append((signature, {fid}, [i]))
    return [members for _, _, members in groups]


def explain_records(model: Any, families: list[dict[str, Any]], top_k: int,
                    photo_model_version: str | None = None) -> list[dict[str, Any]]:
    """PMTModel.explain for request families (validated first); one record per family in request order:
    {family_id, predicted_log_pcexp, desil, baseline, contributions: [{variable, value, contribution,
    text}]} or {family_id, error}. photo_* fields are used as in `rank_records` (same version check), so
    an explanation adds up to the prediction `rank` gives for the same family."""
    out, usable = _split_structural(families)
    for group in _uniform_groups(families, usable):
        fam_frame, mem_frame = request_tables([families[i] for i in group])
        try:
            fam_frame, photos = split_photo_features(model, fam_frame, photo_model_version)
        except ValueError as err:  # PhotoModelMismatch: the whole group
            for i in group:
                out[i] = error_record(families[i], str(err))
            continue
        checked = validate_population(fam_frame, mem_frame)
        errors = problems_by_family(checked.problems)
        explained: dict[str, dict[str, Any]] = {}
        if len(checked.valid_families):
            for item in model.explain(checked.valid_families, checked.valid_members, top_k=top_k,
                                      photo_features=photos):
                explained[str(item["family_id"])] = _plain(item)
        for i in group:
            fid = str(families[i]["family_id"])
            if fid in explained:
                out[i] = explained[fid]
            else:
                out[i] = error_record(families[i], errors.get(fid, "family was not explained (rejected by validation)"))
    return [r if r is not None else error_record(families[i], "family was not explained") for i, r in enumerate(out)]


def _plain(value: Any) -> Any:
    """Recursively convert numpy scalars/NaN in an explanation to JSON-ready Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value
