"""Validation of tables against the DTSEN data contract (`features.schema`), vectorised.

Everything a check knows about a column comes from its `FieldSpec` in `features.schema`; this module
adds only what a single column cannot say: the conditional rules (`CONDITIONAL_RULES`) and the
structure of a population (unique ids, exactly one head per family, members of known families,
families with members).

Contract of the results:
- `validate_table(df, table)` returns a *problems* frame (`PROBLEM_COLUMNS`), one row per problem,
  every problem (not the first): `table`, `row` (0-based position in the input; null for problems
  about a whole column or a whole family), `family_id`, `member_no` (members only), `field`, `value`
  (the bad value as text, `"null"` for a missing one, `"<withheld>"` for identifiers), `allowed`
  (`FieldSpec.allowed_text()` or the rule), `severity` (`"error"` or `"warning"`), `check` (the kind of
  check, e.g. `"category"`, `"range"`) and `message` (one sentence naming family, member, field, value
  and what is allowed).
- `validate_population(families, members)` returns a `ValidationResult`: the families and members of
  every family without an error-level problem (coerced to storage dtypes), all problems, and the
  rejected family ids. A family is rejected when its row or any of its members has an error; a problem
  about a whole table (a missing required column, a personal-identifier column) rejects every family.
  Every family id of the input (families and members) ends in exactly one of the valid frame or
  `rejected_family_ids`; rows without a family id are reported by `row` and dropped.
- `validate_family_json(payload)` takes one family (or a list) as JSON objects with a `members` list and
  goes through the same DataFrame path.

Column decisions:
- A missing non-nullable column is an error (one problem, the whole table is rejected); a missing
  nullable column is a warning and reads as all-null (admin signals often do not exist for a file).
- An unknown extra column is a warning (`check="unknown_column"`); it rejects nothing and is dropped
  from the valid frames, which hold exactly the contract columns in contract order.
- A personal-identifier column (`schema.FORBIDDEN_COLUMNS`, compared case-insensitively after turning
  spaces, dots and hyphens into underscores) refuses the table; its values are never read or echoed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features import schema
from features.identity_cache import per_objects
from features.schema import FieldSpec

PROBLEM_COLUMNS: tuple[str, ...] = (
    "table", "row", "family_id", "member_no", "field", "value", "allowed", "severity", "check", "message",
)
ERROR = "error"
WARNING = "warning"
WITHHELD = "<withheld>"
_MAX_VALUE_CHARS = 60
# Up to this many values, string checks (patterns, set membership) run as a Python loop over the values:
# for a few values that costs microseconds, where pyarrow's per-call set-up (RE2 compiles the pattern on
# every call, ~50 us) dominates a one-family request. Larger inputs go through pyarrow. Same results
# either way (tests compare the two on every contract pattern).
SMALL_STRING_INPUT = 256
_ARROW_STRING = pd.StringDtype("pyarrow")
# The dtype astype("string") gives (NA for null). Compare with it, not with "string": pandas' "str" dtype
# (NaN for null) also equals "string".
_NA_STRING = pd.Series(["x"]).astype("string").dtype

# Text values accepted for a bool field (after strip + lower-case); numbers 0/1 are accepted too.
_BOOL_WORDS: dict[str, float] = {
    "true": 1.0, "false": 0.0, "t": 1.0, "f": 0.0, "1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0,
    "yes": 1.0, "no": 0.0, "y": 1.0, "n": 0.0,
}

# Which allowed-code set a region field is checked against.
_REGION_CODES: dict[str, Callable[[], frozenset[str]]] = {
    "province_code": schema.allowed_provinces,
    "regency_code": schema.allowed_regencies,
}
_IDENTIFIER_RE = re.compile(schema.IDENTIFIER_LIKE_PATTERN)
# The same test for ASCII text in RE2 (pyarrow): Python's `\d` and `\s` on ASCII characters are [0-9] and
# [\t\n\v\f\r\x1c-\x1f ] (RE2's `\s` lacks \v and \x1c-\x1f, so the classes are spelled out).
_ASCII_IDENTIFIER_RE2 = r"^[\t\n\x0b\x0c\r\x1c-\x1f ]*[0-9]{15,}[\t\n\x0b\x0c\r\x1c-\x1f ]*$"
if schema.IDENTIFIER_LIKE_PATTERN != r"^\s*\d{15,}\s*$":  # pragma: no cover - the RE2 twin must follow it
    raise RuntimeError("schema.IDENTIFIER_LIKE_PATTERN changed: update _ASCII_IDENTIFIER_RE2 to match it")
# Contract patterns RE2 (pyarrow) cannot compile, as (must match, must not match) RE2 pairs with the same
# meaning: FAMILY_ID_PATTERN's negative lookahead `(?!\d{15,}$)` only ever sees ASCII text (the positive
# part admits [A-Za-z0-9_-] only), where Python's `\d` is [0-9].
_RE2_TWINS: dict[str, tuple[str, str]] = {
    r"^(?!\d{15,}$)[A-Za-z0-9_-]{4,64}$": (r"^[A-Za-z0-9_-]{4,64}$", r"^[0-9]{15,}$"),
}
if schema.FAMILY_ID_PATTERN not in _RE2_TWINS:  # pragma: no cover - the RE2 twin must follow it
    raise RuntimeError("schema.FAMILY_ID_PATTERN changed: update _RE2_TWINS to match it")


# Schema-derived values, computed once per table/field (the contract is constant within a process).
@cache
def _field_map(table: str) -> dict[str, FieldSpec]:
    return schema.field_map(table)


@dataclass(frozen=True)
class _FieldPlan:
    """What checking one field needs, derived once from its spec.

    `code_table`: for a category field whose codes are small non-negative integers, a bool array with
    True at each allowed code (a lookup instead of np.isin); else None. `int_dtype`: the numpy dtype of
    integer storage (category and int fields), else None."""

    allowed: str
    codes: np.ndarray
    code_table: np.ndarray | None
    storage_dtype: object
    int_dtype: np.dtype | None

    @classmethod
    def of(cls, spec: FieldSpec) -> _FieldPlan:
        codes = np.asarray(spec.codes, dtype=float)
        codes.flags.writeable = False
        table = None
        if len(codes) and codes.min() >= 0 and codes.max() < 4096:
            table = np.zeros(int(codes.max()) + 1, dtype=bool)
            table[codes.astype(np.intp)] = True
            table.flags.writeable = False
        storage = pd.api.types.pandas_dtype(spec.pandas_dtype())
        int_dtype = storage.numpy_dtype if spec.kind in ("category", "int") else None
        return cls(spec.allowed_text(), codes, table, storage, int_dtype)


# Plans by spec identity: a FieldSpec hashes all its categories on every lookup, which costs more than
# checking a column of a small request.
_PLANS: dict = {}


def _plan(spec: FieldSpec) -> _FieldPlan:
    return per_objects(_PLANS, (spec,), lambda: _FieldPlan.of(spec), max_entries=1024)


def _allowed_text(spec: FieldSpec) -> str:
    return _plan(spec).allowed


def _storage_dtype(spec: FieldSpec) -> object:
    return _plan(spec).storage_dtype


def _allowed_codes(values: np.ndarray, spec: FieldSpec) -> np.ndarray:
    """Which `values` (float codes; whole numbers wherever the caller looks, nan elsewhere) are allowed
    codes of category field `spec`."""
    plan = _plan(spec)
    table = plan.code_table
    if table is None:
        return np.isin(values, plan.codes)
    inside = (values >= 0) & (values < len(table))  # nan: False
    return inside & table[np.where(inside, values, 0).astype(np.intp)]


def _equals_any(values: np.ndarray, codes: tuple[float, ...]) -> np.ndarray:
    """np.isin(values, codes) for a handful of codes (a few comparisons cost less than np.isin's set-up)."""
    out = np.zeros(len(values), dtype=bool)
    for code in codes:
        out |= values == code
    return out


@cache
def _storage_dtypes(table: str) -> dict[str, object]:
    return {spec.name: _storage_dtype(spec) for spec in schema.table_fields(table)}


# id(arrow value set) -> (the array, the same codes as a Python set), for `_in_set`'s small-input path.
_REGION_SETS: dict[int, tuple[pa.Array, frozenset[str]]] = {}


@cache
def _region_value_set(name: str) -> pa.Array:
    """The allowed codes of a region field as the arrow value set `_in_set` searches."""
    arr = _arrow_strings(pd.Series(sorted(_REGION_CODES[name]()), dtype="string").dropna())
    _REGION_SETS[id(arr)] = (arr, frozenset(v for v in arr.to_pylist() if v is not None))
    return arr


# --------------------------------------------------------------------------------------------
# conditional rules
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConditionalRule:
    """`field` must be null exactly when `when` takes one of `null_when`; for any other valid value of
    `when` it is required. Bool values are written 0.0 (false) / 1.0 (true)."""

    table: str
    field: str
    when: str
    null_when: tuple[float, ...]

    def _when_spec(self) -> FieldSpec:
        return _field_map(self.table)[self.when]

    def _values_text(self, values: tuple[float, ...]) -> str:
        spec = self._when_spec()
        if spec.kind == "bool":
            return " or ".join("true" if v else "false" for v in values)
        return ", ".join(str(int(v)) for v in values)

    def required_values(self) -> tuple[float, ...]:
        spec = self._when_spec()
        every = (0.0, 1.0) if spec.kind == "bool" else tuple(float(c) for c in spec.codes)
        return tuple(v for v in every if v not in self.null_when)

    def text(self) -> str:
        """The rule in words (the `allowed` of its problems)."""
        return (f"{self.field} is null exactly when {self.when} is {self._values_text(self.null_when)}; "
                f"when {self.when} is {self._values_text(self.required_values())} it is required")


@cache
def _required_values(rule: ConditionalRule) -> tuple[float, ...]:
    return rule.required_values()


def _codes_except(table: str, name: str, keep: tuple[int, ...]) -> tuple[float, ...]:
    return tuple(float(c) for c in schema.field_map(table)[name].codes if c not in keep)


CONDITIONAL_RULES: tuple[ConditionalRule, ...] = (
    # installed power exists only for a metered PLN connection (lighting_source 1)
    ConditionalRule("families", "pln_installed_power", "lighting_source",
                    _codes_except("families", "lighting_source", (1,))),
    ConditionalRule("families", "toilet_type", "toilet_facility", (6.0,)),
    ConditionalRule("families", "sewage_disposal", "toilet_facility", (6.0,)),
    ConditionalRule("members", "industry", "works", (0.0,)),
    ConditionalRule("members", "employment_status", "works", (0.0,)),
    ConditionalRule("members", "school_level", "school_participation", (1.0,)),
)
for _rule in CONDITIONAL_RULES:  # the rules name contract fields; fail at import if the contract moves
    _fields = schema.field_map(_rule.table)
    assert _rule.field in _fields and _rule.when in _fields and _fields[_rule.field].nullable, _rule

UNIQUE_FAMILY_TABLES = ("families", "survey")  # one row per family (photos: several per family)
HEAD_CODE = 1  # members.relationship 1 = Kepala keluarga
HEAD_RULE = "exactly one member with relationship 1 (head) per family"


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
@dataclass
class ValidationResult:
    """What survives validation and why the rest did not.

    `valid_families`/`valid_members`: contract columns in storage dtypes, only families without an
    error-level problem (and their members). `problems`: every problem (`PROBLEM_COLUMNS`).
    `rejected_family_ids`: sorted ids of the input families (or member family ids) that were rejected.
    `family_floats` / `member_floats`: the numeric, category and bool columns of the valid frames as
    float64 arrays (NaN for null, 1.0/0.0 for bools), row for row: what validation parsed them from, so
    that features.build need not convert them again (empty when not computed).
    """

    valid_families: pd.DataFrame
    valid_members: pd.DataFrame
    problems: pd.DataFrame
    rejected_family_ids: list[str] = field(default_factory=list)
    family_floats: dict[str, np.ndarray] = field(default_factory=dict)
    member_floats: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def errors(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == ERROR]

    @property
    def warnings(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == WARNING]

    @property
    def ok(self) -> bool:
        """True when nothing was rejected (warnings allowed)."""
        return len(self.errors) == 0


@lru_cache(maxsize=1)
def _empty_problems_template() -> pd.DataFrame:
    return pd.DataFrame({
        "table": pd.Series(dtype="string"), "row": pd.Series(dtype="Int64"),
        "family_id": pd.Series(dtype="string"), "member_no": pd.Series(dtype="Int32"),
        **{c: pd.Series(dtype="string") for c in PROBLEM_COLUMNS[4:]},
    })


@lru_cache(maxsize=1)
def _problem_dtypes() -> dict[str, object]:
    return _empty_problems_template().dtypes.to_dict()


def empty_problems() -> pd.DataFrame:
    """A zero-row problems frame (`PROBLEM_COLUMNS` in their dtypes); a new frame on every call."""
    return _empty_problems_template().copy()


def _with_problem_dtypes(problems: pd.DataFrame) -> pd.DataFrame:
    """`problems` cast to the problem dtypes (returned as is when it already has them)."""
    dtypes = _problem_dtypes()
    if list(problems.columns) == list(dtypes) and all(
            problems[c].dtype == d for c, d in dtypes.items()):
        return problems
    return problems.astype(dtypes)


# --------------------------------------------------------------------------------------------
# problem collection (messages are built for the bad rows only)
# --------------------------------------------------------------------------------------------
def _value_text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[arg-type]
        return "null"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    text = str(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def _identifier_like(value: object) -> bool:
    """True for a value shaped like a NIK or family-card number (15+ digits): never echoed back."""
    return isinstance(value, str) and _IDENTIFIER_RE.fullmatch(value) is not None


def _identifier_like_values(values: pd.Series) -> list[str]:
    """The values of a string Series (no nulls) that `_identifier_like` accepts, in order. Vectorised
    for ASCII values (pyarrow RE2 with the same character classes); other values go through Python."""
    if len(values) <= SMALL_STRING_INPUT:
        return [v for v in values.tolist() if _identifier_like(v)]
    arr = _arrow_strings(values)
    ascii_ = np.asarray(pc.string_is_ascii(arr).to_numpy(zero_copy_only=False), dtype=bool)
    hit = np.asarray(pc.fill_null(pc.match_substring_regex(arr, _ASCII_IDENTIFIER_RE2), False)
                     .to_numpy(zero_copy_only=False), dtype=bool) & ascii_
    listed = arr.to_pylist()
    return [v for i, v in enumerate(listed)
            if hit[i] or (not ascii_[i] and _identifier_like(v))]


def identifier_like_mask(values: pd.Series) -> np.ndarray:
    """Boolean mask (len(values),): which values are shaped like a NIK / family-card number (nulls
    False). Vectorised like `_identifier_like_values`; used wherever ids are shown or stored."""
    text = values.astype("string")
    mask = np.zeros(len(text), dtype=bool)
    present = text.notna().to_numpy(dtype=bool)
    if present.any():
        hits = set(_identifier_like_values(text[present]))
        if hits:
            mask[present] = text[present].isin(list(hits)).to_numpy(dtype=bool)
    return mask


def pattern_fullmatch(values: pd.Series, pattern: str) -> np.ndarray:
    """Boolean mask (len(values),): which string values `re.fullmatch(pattern, value)` accepts (nulls
    False). Runs in pyarrow's RE2 (no Python loop, no GIL) when RE2 can express the pattern (directly or
    through its `_RE2_TWINS` pair); otherwise in Python's `re`. Contract patterns are anchored (^...$)."""
    text = values if values.dtype == _NA_STRING else values.astype("string")
    if len(text) <= SMALL_STRING_INPUT:
        compiled = _compiled(pattern)
        return np.fromiter((v is not None and compiled.fullmatch(v) is not None
                            for v in text.to_numpy(dtype=object, na_value=None)), dtype=bool, count=len(text))
    arr = _arrow_strings(text)

    def re2(p: str) -> np.ndarray:
        return np.asarray(pc.fill_null(pc.match_substring_regex(arr, p), False).to_numpy(zero_copy_only=False),
                          dtype=bool)

    if pattern in _RE2_TWINS:
        must, must_not = _RE2_TWINS[pattern]
        return re2(must) & ~re2(must_not)
    if pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$"):
        try:
            return re2(pattern)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return text.str.fullmatch(pattern).to_numpy(dtype=bool, na_value=False)


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def string_in_set(values: pd.Series, allowed: pd.Series | pd.Index | list[str]) -> np.ndarray:
    """Vectorised membership of string `values` in `allowed` (False for null): pyarrow, or a Python set
    for up to SMALL_STRING_INPUT values."""
    return _in_set(values, allowed)


class _Problems:
    """Collects problems of one table; row-level problems carry the row's family id and member no."""

    def __init__(self, table: str, family_id: pd.Series, member_no: pd.Series | None) -> None:
        self.table = table
        self.family_id = family_id  # string dtype, NA where missing
        self.member_no = member_no  # Int32 or None for tables without members
        self.parts: list[pd.DataFrame] = []

    def table_level(self, field_name: str, value: str, allowed: str, severity: str, check: str,
                    message: str) -> None:
        self.parts.append(pd.DataFrame({
            "table": [self.table], "row": pd.array([pd.NA], dtype="Int64"),
            "family_id": pd.array([pd.NA], dtype="string"), "member_no": pd.array([pd.NA], dtype="Int32"),
            "field": [field_name], "value": [value], "allowed": [allowed], "severity": [severity],
            "check": [check], "message": [message],
        }))

    def family_level(self, family_ids: pd.Series, field_name: str, values: list[str], allowed: str,
                     reason: str, check: str) -> None:
        """Problems about whole families (no row): e.g. the number of heads."""
        if not len(family_ids):
            return
        ids = family_ids.astype("string").reset_index(drop=True)
        messages = [f"{self.table} family {fid}: {field_name} {reason} (value {val!r}); allowed: {allowed}."
                    for fid, val in zip(ids, values, strict=True)]
        n = len(ids)
        self.parts.append(pd.DataFrame({
            "table": [self.table] * n, "row": pd.array([pd.NA] * n, dtype="Int64"), "family_id": ids,
            "member_no": pd.array([pd.NA] * n, dtype="Int32"), "field": [field_name] * n, "value": values,
            "allowed": [allowed] * n, "severity": [ERROR] * n, "check": [check] * n, "message": messages,
        }))

    def rows(self, mask: np.ndarray, field_name: str, raw: pd.Series | list[str] | None, allowed: str | list[str],
             reason: str | list[str], check: str) -> None:
        """One error per True in `mask`; `raw` is the column (its bad values are shown) or per-bad-row text."""
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        if raw is None:
            values = ["null"] * len(idx)
        elif isinstance(raw, list):
            values = raw
        else:
            values = [_value_text(v) for v in raw.iloc[idx].astype(object)]
        fids = [WITHHELD if _identifier_like(f) else f for f in self.family_id.iloc[idx].astype(object).tolist()]
        values = [WITHHELD if _identifier_like(v) else v for v in values]
        members = (self.member_no.iloc[idx].astype(object).tolist() if self.member_no is not None
                   else [None] * len(idx))
        allowed_l = allowed if isinstance(allowed, list) else [allowed] * len(idx)
        reason_l = reason if isinstance(reason, list) else [reason] * len(idx)
        messages = []
        for pos, fid, mno, val, alw, why in zip(idx, fids, members, values, allowed_l, reason_l, strict=True):
            who = f"family {fid}" if fid is not None and fid is not pd.NA else f"row {pos} (no family_id)"
            if self.member_no is not None:
                who += f", member {mno}" if mno is not None and mno is not pd.NA else f", row {pos}"
            messages.append(f"{self.table} {who}: {field_name} {why} (value {val!r}); allowed: {alw}.")
        n = len(idx)
        self.parts.append(pd.DataFrame({
            "table": [self.table] * n, "row": pd.array(idx, dtype="Int64"),
            "family_id": pd.array(fids, dtype="string"),
            "member_no": pd.array(members if self.member_no is not None else [pd.NA] * n, dtype="Int32"),
            "field": [field_name] * n, "value": values, "allowed": allowed_l, "severity": [ERROR] * n,
            "check": [check] * n, "message": messages,
        }))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return empty_problems()
        out = pd.concat([empty_problems(), *self.parts], ignore_index=True)
        return out.astype({c: "string" for c in ("table", "family_id", "field", "value", "allowed", "severity",
                                                  "check", "message")})


# --------------------------------------------------------------------------------------------
# column parsing: raw values -> float array (numbers, codes, bools) or strings, plus type errors
# --------------------------------------------------------------------------------------------
def _python_bools(raw: pd.Series) -> np.ndarray:
    """Mask of Python bool values in an object column (to_numeric would read True as 1)."""
    if raw.dtype != object:
        return np.zeros(len(raw), dtype=bool)
    return raw.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)


def _in_set(values: pd.Series, allowed: pd.Series | pd.Index | list[str] | pa.Array) -> np.ndarray:
    """Vectorised membership of string `values` in `allowed` (False for null); pyarrow compute, since
    pandas' isin on arrow strings loops in Python when given a Series. `allowed` may be a prepared
    large_string arrow array without nulls (`_region_value_set`)."""
    if len(values) <= SMALL_STRING_INPUT:
        wanted = values.to_numpy(dtype=object, na_value=None) if isinstance(values, pd.Series) else values
        present = _python_set(allowed)
        return np.fromiter((v is not None and v in present for v in wanted), dtype=bool, count=len(wanted))
    if isinstance(allowed, pa.Array):
        haystack = allowed
    else:
        haystack = _arrow_strings(pd.Series(allowed, dtype="string").dropna())
    found = pc.is_in(_arrow_strings(values), value_set=haystack)
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def _python_set(allowed: pd.Series | pd.Index | list[str] | pa.Array) -> frozenset[str] | set[str]:
    """The non-null values of `allowed` as Python strings (a prepared region value set is cached)."""
    if isinstance(allowed, pa.Array):
        cached = _REGION_SETS.get(id(allowed))
        if cached is not None and cached[0] is allowed:
            return cached[1]
        return {v for v in allowed.to_pylist() if v is not None}
    if isinstance(allowed, list):
        return {str(v) for v in allowed if v is not None and not (isinstance(v, float) and np.isnan(v))}
    if isinstance(allowed, pd.Series) and isinstance(allowed.dtype, pd.StringDtype):  # str values already
        values = set(allowed.to_numpy(dtype=object, na_value=None).tolist())
        values.discard(None)
        return values
    return {str(v) for v in pd.Series(allowed, dtype="string").dropna().tolist()}


def _arrow_strings(values: pd.Series) -> pa.Array:
    """The values as one arrow string array (zero-copy for arrow-backed pandas strings)."""
    arr = pa.array(values.astype(_ARROW_STRING).array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr


def _dtype_kind(dtype: object) -> str:
    """'bool', 'int', 'float' (numeric, numpy or nullable) or 'other'; cached per dtype (pandas' is_*_dtype
    checks cost a few microseconds each, several per column and request)."""
    try:
        return _DTYPE_KINDS[dtype]
    except (KeyError, TypeError):
        pass
    if pd.api.types.is_bool_dtype(dtype):
        kind = "bool"
    elif pd.api.types.is_integer_dtype(dtype):
        kind = "int"
    elif pd.api.types.is_numeric_dtype(dtype):
        kind = "float"
    else:
        kind = "other"
    try:
        if len(_DTYPE_KINDS) < 256:
            _DTYPE_KINDS[dtype] = kind
    except TypeError:  # an unhashable dtype
        pass
    return kind


_DTYPE_KINDS: dict[object, str] = {}


def _null_mask(raw: pd.Series) -> np.ndarray:
    """`raw.isna()` as a numpy bool array (from the array itself: no intermediate Series)."""
    if isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "biu":  # numpy ints/bools hold no null
        return np.zeros(len(raw), dtype=bool)
    if isinstance(raw.dtype, np.dtype) and raw.dtype.kind == "f":
        return np.isnan(raw.to_numpy())
    return np.asarray(raw.array.isna(), dtype=bool)


def _as_numbers(raw: pd.Series, null: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64 with nan for null/unparseable, mask of non-null values that are not numbers).
    `null`: the column's null mask when the caller has it already."""
    if null is None:
        null = _null_mask(raw)
    kind = _dtype_kind(raw.dtype)
    if kind == "bool":
        return np.full(len(raw), np.nan), ~null
    if kind != "other":
        return _float_copy(raw), np.zeros(len(raw), dtype=bool)
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
    bools = _python_bools(raw)
    values[bools] = np.nan
    return values, ~null & np.isnan(values)


def _as_bools(raw: pd.Series, null: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(values 1.0/0.0/nan, mask of non-null values that are not booleans)."""
    if null is None:
        null = _null_mask(raw)
    kind = _dtype_kind(raw.dtype)
    if kind == "bool":
        return _float_copy(raw), np.zeros(len(raw), dtype=bool)
    if kind != "other":
        values = _float_copy(raw)
        bad = ~null & (values != 0.0) & (values != 1.0)
        values[bad] = np.nan
        return values, bad
    present = ~null
    if pd.api.types.infer_dtype(raw, skipna=True) == "boolean":  # only true/false/null (as JSON sends)
        values = np.full(len(raw), np.nan)
        values[present] = raw.to_numpy()[present].astype(np.float64)
        return values, np.zeros(len(raw), dtype=bool)
    values = np.full(len(raw), np.nan)
    words = raw[present].astype(str).str.strip().str.lower().map(_BOOL_WORDS)
    values[present] = words.to_numpy(dtype="float64", na_value=np.nan)
    return values, present & np.isnan(values)


def _float_copy(raw: pd.Series) -> np.ndarray:
    """A numeric or bool column as a new float64 array, null -> nan. numpy-backed columns go straight
    through numpy (pandas' na_value path costs ~40 us per call, which dominates small batches)."""
    if isinstance(raw.dtype, np.dtype):  # int/float/bool numpy storage: no null but nan
        return np.array(raw.to_numpy(), dtype=np.float64)
    return raw.to_numpy(dtype="float64", na_value=np.nan, copy=True)


def _as_strings(raw: pd.Series) -> pd.Series:
    """Values as pandas strings (NA kept); integer columns become their digits (11 -> '11')."""
    if _dtype_kind(raw.dtype) == "int":
        text = raw.astype("Int64").astype("string")
    elif raw.dtype == _NA_STRING:
        text = raw
    elif isinstance(raw.dtype, pd.StringDtype) and len(raw) <= SMALL_STRING_INPUT:
        # pandas' "str" (NaN for null): through Python costs half of astype for a few values
        text = pd.Series(pd.array(raw.to_numpy(dtype=object, na_value=None), dtype=_NA_STRING),
                         index=raw.index, copy=False)
    else:
        text = raw.astype("string")
    return text if _is_default_index(text.index) else text.reset_index(drop=True)


def _is_default_index(index: pd.Index) -> bool:
    """True for a RangeIndex 0, 1, ..., n-1 (what reset_index(drop=True) would give)."""
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _storage_ints(values: np.ndarray, good: np.ndarray, dtype: object) -> pd.arrays.IntegerArray:
    """Integer extension array of `values` (float view), null where not `good` or nan. `dtype`: a
    nullable integer dtype (e.g. "Int32") or its numpy dtype."""
    mask = ~good | np.isnan(values)
    numpy_dtype = dtype if isinstance(dtype, np.dtype) else _numpy_int_dtype(dtype)
    return pd.arrays.IntegerArray(np.where(mask, 0, values).astype(numpy_dtype), mask)


@lru_cache(maxsize=16)
def _numpy_int_dtype(dtype: object) -> np.dtype:
    return pd.api.types.pandas_dtype(dtype).numpy_dtype


def _storage_bools(values: np.ndarray, good: np.ndarray) -> pd.arrays.BooleanArray:
    mask = ~good | np.isnan(values)
    return pd.arrays.BooleanArray(np.where(mask, False, values == 1.0), mask)


# --------------------------------------------------------------------------------------------
# one table
# --------------------------------------------------------------------------------------------
@dataclass
class _Checked:
    """A checked table: contract columns parsed to storage dtypes (bad cells null), numeric views used
    by the cross-field checks, and the problems."""

    table: str
    parsed: pd.DataFrame
    numbers: dict[str, np.ndarray]
    nulls: dict[str, np.ndarray]
    family_id: pd.Series
    problems: _Problems
    table_rejected: bool = False


@lru_cache(maxsize=4096)
def _normalised_column_name(name: object) -> str:
    return re.sub(r"[\s.\-]+", "_", str(name).strip().lower())


def forbidden_columns(columns: pd.Index | list[str]) -> list[str]:
    """Column names that are personal identifiers (schema.FORBIDDEN_COLUMNS, case-insensitive)."""
    return [str(c) for c in columns if _normalised_column_name(c) in schema.FORBIDDEN_COLUMNS]


# (table, column labels) of inputs whose columns gave no problem at all (bounded; cleared when full).
_CLEAN_COLUMNS: set[tuple[str, tuple[object, ...]]] = set()
_MAX_CLEAN_COLUMNS = 256


def _check_columns(df: pd.DataFrame, table: str, problems: _Problems) -> bool:
    """Column-level checks; returns True when the whole table is rejected. Column lists found clean are
    remembered (a service sees the same few over and over)."""
    key = (table, tuple(df.columns))
    if key in _CLEAN_COLUMNS:
        return False
    before = len(problems.parts)
    rejected = _column_problems(df, table, problems)
    if not rejected and len(problems.parts) == before:
        if len(_CLEAN_COLUMNS) >= _MAX_CLEAN_COLUMNS:
            _CLEAN_COLUMNS.clear()
        _CLEAN_COLUMNS.add(key)
    return rejected


def _column_problems(df: pd.DataFrame, table: str, problems: _Problems) -> bool:
    rejected = False
    specs = _field_map(table)
    for col in forbidden_columns(df.columns):
        rejected = True
        problems.table_level(
            col, WITHHELD, "no personal identifier columns (NIK, family-card number, name, address, phone, "
            "customer id); family_id must be a pseudonym (features.pseudonym)", ERROR, "forbidden_column",
            f"{table}: column {col!r} holds personal identifiers and is refused; pseudonymise it into "
            "family_id (desil pseudonymise) or drop it before loading; its values are not shown.")
    forbidden = set(forbidden_columns(df.columns))
    for col in df.columns:
        if col not in specs and str(col) not in forbidden:
            problems.table_level(
                str(col), "(column)", f"the {table} columns of the contract (desil schema --table {table})",
                WARNING, "unknown_column",
                f"{table}: column {str(col)!r} is not part of the contract; it is ignored and not kept.")
    for spec in specs.values():
        if spec.name in df.columns:
            continue
        if spec.nullable:
            problems.table_level(
                spec.name, "(column missing)", spec.allowed_text(), WARNING, "missing_column",
                f"{table}: nullable column {spec.name!r} is missing and is read as all null; "
                f"allowed: {spec.allowed_text()}.")
        else:
            rejected = True
            problems.table_level(
                spec.name, "(column missing)", spec.allowed_text(), ERROR, "missing_column",
                f"{table}: required column {spec.name!r} is missing, so every row is rejected; "
                f"allowed: {spec.allowed_text()}.")
    dupes = df.columns[df.columns.duplicated()]
    for col in dict.fromkeys(map(str, dupes)):
        rejected = True
        problems.table_level(col, "(column)", "each column once", ERROR, "duplicate_column",
                             f"{table}: column {col!r} appears more than once; allowed: each column once.")
    return rejected


def _check_field(raw: pd.Series, spec: FieldSpec, problems: _Problems,
                 null: np.ndarray | None = None, text: pd.Series | None = None) -> tuple[object, np.ndarray | None]:
    """Check one column against its spec; returns (storage array, float view or None for strings).
    `null`: the column's null mask, `text`: `_as_strings(raw)`, when the caller has them already."""
    if null is None:
        null = _null_mask(raw)
    allowed = _allowed_text(spec)
    if not spec.nullable:
        problems.rows(null, spec.name, None, allowed, "is missing", "null")
    if spec.kind in ("category", "int", "float"):
        values, not_number = _as_numbers(raw, null)
        problems.rows(not_number, spec.name, raw, allowed, "is not a number", "type")
        bad = not_number.copy()
        present = ~np.isnan(values)
        if spec.kind in ("category", "int"):
            if _dtype_kind(raw.dtype) == "int":  # integer storage: whole by construction
                not_int = np.zeros(len(values), dtype=bool)
            else:
                not_int = present & ~(np.isfinite(values) & (values == np.round(values)))
            problems.rows(not_int, spec.name, raw, allowed, "is not a whole number", "type")
            bad |= not_int
            present &= ~not_int
        if spec.kind == "category":
            bad_code = present & ~_allowed_codes(values, spec)
            problems.rows(bad_code, spec.name, raw, allowed, "is not an allowed code", "category")
            bad |= bad_code
        else:
            lo = -np.inf if spec.minimum is None else spec.minimum
            hi = np.inf if spec.maximum is None else spec.maximum
            out = present & ((values < lo) | (values > hi))
            problems.rows(out, spec.name, raw, allowed, "is out of range", "range")
            bad |= out
        good = ~bad
        values = np.where(good, values, np.nan)
        if spec.kind == "float":
            return values, values
        return _storage_ints(values, good, _plan(spec).int_dtype), values
    if spec.kind == "bool":
        values, not_bool = _as_bools(raw, null)
        problems.rows(not_bool, spec.name, raw, allowed, "is not true or false", "type")
        return _storage_bools(values, ~not_bool), values
    # string and region
    text = _as_strings(raw) if text is None else text
    present = ~null
    if spec.kind == "region":
        codes = _REGION_CODES.get(spec.name)
        if codes is not None:
            region_allowed = f"{allowed}: {spec.source}" if spec.source else allowed
            unknown = present & ~_in_set(text, _region_value_set(spec.name))
            if unknown.any():
                problems.rows(unknown, spec.name, raw, region_allowed, "is not a known BPS code", "region")
                text = text.mask(unknown)
    elif spec.pattern:
        matches = pattern_fullmatch(text, spec.pattern)
        mismatch = present & ~matches
        if mismatch.any():
            problems.rows(mismatch, spec.name, raw, allowed, "does not match the required pattern", "pattern")
            text = text.mask(mismatch)
    return (text if text.dtype == _NA_STRING else text.astype("string")).array, None


def _check_rules(checked: _Checked, table: str) -> None:
    """Conditional rules (CONDITIONAL_RULES) and the province/regency agreement."""
    numbers, problems = checked.numbers, checked.problems
    for rule in CONDITIONAL_RULES:
        if rule.table != table or rule.when not in numbers or rule.field not in numbers:
            continue
        when = numbers[rule.when]
        dependent = numbers[rule.field]
        field_null = checked.nulls[rule.field]
        dependent_ok = ~np.isnan(dependent)  # present and valid by itself
        must_be_null = _equals_any(when, rule.null_when)
        required = _equals_any(when, _required_values(rule))
        missing = required & field_null
        if missing.any():
            when_column = checked.parsed[rule.when]
            reasons = [f"is missing although {rule.when} is {_value_text(w)}" for w in when_column[missing]]
            problems.rows(missing, rule.field, None, rule.text(), reasons, "conditional")
        present = must_be_null & dependent_ok
        if present.any():
            when_column = checked.parsed[rule.when]
            reasons = [f"must be null because {rule.when} is {_value_text(w)}" for w in when_column[present]]
            problems.rows(present, rule.field, checked.parsed[rule.field], rule.text(), reasons, "conditional")
    if table == "families" and {"province_code", "regency_code"} <= set(checked.parsed.columns):
        # regency codes start with their province's code; null on either side is no mismatch
        if len(checked.parsed) <= SMALL_STRING_INPUT:
            prov_values = checked.parsed["province_code"].to_numpy(dtype=object, na_value=None)
            reg_values = checked.parsed["regency_code"].to_numpy(dtype=object, na_value=None)
            mismatch = np.fromiter((p is not None and r is not None and r[:2] != p
                                    for p, r in zip(prov_values, reg_values, strict=True)),
                                   dtype=bool, count=len(prov_values))
        else:
            prov = _arrow_strings(checked.parsed["province_code"])
            reg = _arrow_strings(checked.parsed["regency_code"])
            differs = pc.not_equal(pc.utf8_slice_codeunits(reg, 0, 2), prov)
            mismatch = np.asarray(pc.fill_null(differs, False).to_numpy(zero_copy_only=False), dtype=bool)
        if mismatch.any():
            prov_text = checked.parsed["province_code"].to_numpy(dtype=object, na_value=None)
            allowed = [f"a regency code of province {p} (starting with {p})" for p in prov_text[mismatch]]
            problems.rows(mismatch, "regency_code", checked.parsed["regency_code"], allowed,
                          "is not in the family's province", "region")


def _check_table(df: pd.DataFrame, table: str) -> _Checked:
    specs = schema.table_fields(table)
    if not _is_default_index(df.index):
        df = df.reset_index(drop=True)
    n = len(df)
    family_id = (_as_strings(df["family_id"]) if "family_id" in df.columns and df.columns.is_unique
                 else pd.Series(pd.array([pd.NA] * n, dtype="string")))
    member_no = None
    if table == "members":
        if "member_no" in df.columns and df.columns.is_unique:
            nums, _ = _as_numbers(df["member_no"])
            ok = np.isfinite(nums) & (nums == np.round(nums)) & (np.abs(nums) < 2**31)
            member_no = pd.Series(_storage_ints(nums, ok, "Int32"))
        else:
            member_no = pd.Series(pd.array([pd.NA] * n, dtype="Int32"))
    problems = _Problems(table, family_id, member_no)
    rejected = _check_columns(df, table, problems)
    parsed: dict[str, object] = {}
    numbers: dict[str, np.ndarray] = {}
    nulls: dict[str, np.ndarray] = {}
    columns_unique = df.columns.is_unique
    present_columns = set(df.columns) if columns_unique else set()
    for spec in specs:
        if spec.name not in present_columns:
            nulls[spec.name] = np.ones(n, dtype=bool)
            parsed[spec.name] = pd.array([pd.NA] * n, dtype=spec.pandas_dtype()) if spec.kind != "float" \
                else np.full(n, np.nan)
            if spec.kind != "string" and spec.kind != "region":
                numbers[spec.name] = np.full(n, np.nan)
            continue
        raw = df[spec.name]
        null = _null_mask(raw)
        nulls[spec.name] = null
        storage, view = _check_field(raw, spec, problems, null, family_id if spec.name == "family_id" else None)
        parsed[spec.name] = storage
        if view is not None:
            numbers[spec.name] = view
    # storage dtypes already (coerced on output); the arrays are this call's own, so no copy
    frame = pd.DataFrame(parsed, index=pd.RangeIndex(n), copy=False)
    checked = _Checked(table, frame, numbers, nulls, family_id, problems, rejected)
    _check_rules(checked, table)
    if "family_id" in df.columns and table in UNIQUE_FAMILY_TABLES and _may_repeat(family_id):
        dup = family_id.duplicated(keep=False).to_numpy(dtype=bool) & family_id.notna().to_numpy(dtype=bool)
        if dup.any():
            counts = family_id[dup].map(family_id[dup].value_counts())
            problems.rows(dup, "family_id", df["family_id"], "each family_id once",
                          [f"appears {c} times" for c in counts], "duplicate")
    if table == "members":
        _check_member_structure(checked)
    return checked


def _may_repeat(ids: pd.Series) -> bool:
    """False when the non-null values of `ids` are certainly distinct (checked in Python for small inputs;
    larger ones are left to pandas' duplicated)."""
    if len(ids) > SMALL_STRING_INPUT:
        return True
    present = [v for v in ids.to_numpy(dtype=object, na_value=None).tolist() if v is not None]
    return len(set(present)) != len(present)


def _check_member_structure(checked: _Checked) -> None:
    """Duplicate (family_id, member_no) and exactly one head per family, via integer family codes."""
    problems = checked.problems
    codes, uniques = pd.factorize(checked.family_id, use_na_sentinel=True)
    member_no = problems.member_no.to_numpy(dtype="float64", na_value=np.nan) if problems.member_no is not None \
        else np.full(len(codes), np.nan)
    keyed = (codes >= 0) & ~np.isnan(member_no)
    key = np.where(keyed, codes.astype(np.int64) * 1_000_000 + np.nan_to_num(member_no).astype(np.int64), -1)
    dup = keyed & pd.Series(key).duplicated(keep=False).to_numpy()
    if dup.any():
        problems.rows(dup, "member_no", checked.parsed["member_no"], "each member_no once per family",
                      "appears more than once in this family", "duplicate")
    relationship = checked.numbers.get("relationship")
    if relationship is None or not len(uniques):
        return
    has = codes >= 0
    heads = np.bincount(codes[has], weights=(relationship[has] == HEAD_CODE).astype(float), minlength=len(uniques))
    bad = np.flatnonzero(heads != 1)
    if len(bad):
        problems.family_level(pd.Series(np.asarray(uniques)[bad]), "relationship",
                              [f"{int(h)} heads" for h in heads[bad]], HEAD_RULE,
                              "does not have exactly one head", "one_head")


def validate_table(df: pd.DataFrame, table: str, families: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every problem of one table (`PROBLEM_COLUMNS`), empty when the table is valid.

    For `table="members"` with `families` given, members of a family_id not in `families` are errors.
    """
    checked = _check_table(df, table)
    if table == "members" and families is not None:
        fam_ids = _as_strings(families["family_id"]) if "family_id" in families.columns else pd.Series(dtype="string")
        _check_orphans(checked, fam_ids)
    return checked.problems.frame()


def _check_orphans(members: _Checked, family_ids: pd.Series) -> None:
    orphan = members.family_id.notna().to_numpy(dtype=bool) & ~_in_set(members.family_id, family_ids)
    members.problems.rows(orphan, "family_id", members.family_id, "a family_id present in the families table",
                          "has no row in families", "orphan")


# --------------------------------------------------------------------------------------------
# a population
# --------------------------------------------------------------------------------------------
def validate_population(families: pd.DataFrame, members: pd.DataFrame,
                        extra_problems: pd.DataFrame | None = None) -> ValidationResult:
    """Validate a families table and its members; keep the families without any error.

    `extra_problems` (same columns) are merged in and count like any other problem; the JSON path uses
    it for members whose family_id contradicts their enclosing family.
    """
    fam = _check_table(families, "families")
    mem = _check_table(members, "members")
    _check_orphans(mem, fam.family_id)
    member_ids = mem.family_id.dropna()
    no_members = fam.family_id.notna().to_numpy(dtype=bool) & ~_in_set(fam.family_id, member_ids)
    fam.problems.rows(no_members, "members", ["0 members"] * int(no_members.sum()),
                      "at least one row in members for the family", "has no members", "no_members")
    parts = [p.frame() for p in (fam.problems, mem.problems) if p.parts]
    if extra_problems is not None and len(extra_problems):
        parts.append(extra_problems)
    problems = _with_problem_dtypes(pd.concat(parts, ignore_index=True)) if parts else empty_problems()
    if not (fam.table_rejected or mem.table_rejected or (parts and problems["severity"].eq(ERROR).any())):
        # No error at all, so nothing is rejected: a missing or malformed (incl. NIK-shaped) family id, an
        # orphan member and a family without members are all errors above. Every row is valid, and the
        # parsed frames hold every contract column in its storage dtype (_check_table builds them so).
        return ValidationResult(valid_families=fam.parsed, valid_members=mem.parsed,
                                problems=problems, rejected_family_ids=[],
                                family_floats=fam.numbers, member_floats=mem.numbers)

    all_ids = pd.concat([fam.family_id, mem.family_id], ignore_index=True).dropna().unique()
    errors = problems[problems["severity"] == ERROR]
    table_level = errors["row"].isna() & errors["family_id"].isna()
    if fam.table_rejected or mem.table_rejected or table_level.any():
        bad_ids = pd.Index(all_ids)
    else:
        bad_ids = pd.Index(errors["family_id"].dropna().unique())
    # problems show identifier-shaped ids withheld, so reject those families by their input id too
    identifier_like = _identifier_like_values(pd.Series(all_ids, dtype="string"))
    bad_ids = bad_ids.union(pd.Index(identifier_like, dtype=object)) if identifier_like else bad_ids
    keep_fam = fam.family_id.notna().to_numpy(dtype=bool) & fam.parsed["family_id"].notna().to_numpy(dtype=bool)
    if len(bad_ids):
        keep_fam &= ~_in_set(fam.family_id, bad_ids)
    valid_families = _rows(fam.parsed, keep_fam)
    valid_ids = valid_families["family_id"]
    keep_mem = _in_set(mem.family_id, valid_ids)
    valid_members = _rows(mem.parsed, keep_mem)
    rejected = sorted(set(pd.Index(all_ids).difference(pd.Index(valid_ids)).astype(str)))
    return ValidationResult(
        valid_families=_in_storage_dtypes(valid_families, "families"),
        valid_members=_in_storage_dtypes(valid_members, "members"),
        problems=problems,
        rejected_family_ids=rejected,
        family_floats={name: values[keep_fam] for name, values in fam.numbers.items()},
        member_floats={name: values[keep_mem] for name, values in mem.numbers.items()},
    )


def _rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows of `frame` (a 0..n-1 RangeIndex frame) where `keep`, re-indexed 0..k-1."""
    if keep.all():
        return frame
    return frame.loc[keep].reset_index(drop=True)


def _in_storage_dtypes(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """`schema.coerce_dtypes(frame, table)`, skipped when every contract column already has its storage
    dtype (the parsed frames do: casting would only copy)."""
    dtypes = _storage_dtypes(table)
    have = dict(zip(frame.columns, frame.dtypes, strict=True)) if frame.columns.is_unique else {}
    if have and all(have[c] == d for c, d in dtypes.items() if c in have):
        return frame
    return schema.coerce_dtypes(frame, table)


def family_json_frames(payload: dict | list[dict]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Turn one JSON family (or a list) into (families, members, problems) frames.

    A family object holds the family fields plus `"members": [member objects]`; a member's `family_id`
    may be left out (it is the enclosing family's) or repeat it; a different one is an error.
    Keys a JSON object leaves out read as null.
    """
    items = payload if isinstance(payload, list) else [payload]
    fam_rows: list[dict] = []
    mem_rows: list[dict] = []
    mismatches: list[tuple[object, object, int]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise TypeError(f"family number {i} of the request is a {type(item).__name__}, not a JSON object")
        row = {k: v for k, v in item.items() if k != "members"}
        fid = row.get("family_id")
        members = item.get("members", [])
        if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
            raise TypeError(f"family {fid}: 'members' must be a list of JSON objects")
        fam_rows.append(row)
        for m in members:
            mrow = dict(m)
            if "family_id" in mrow and mrow["family_id"] != fid:
                mismatches.append((fid, mrow["family_id"], len(mem_rows)))
            mrow["family_id"] = fid
            mem_rows.append(mrow)
    families = _records_frame(fam_rows, "families")
    members = _records_frame(mem_rows, "members")
    extra = empty_problems()
    if mismatches:
        extra = pd.DataFrame({
            "table": "members", "row": pd.array([r for _, _, r in mismatches], dtype="Int64"),
            "family_id": pd.array([str(f) for f, _, _ in mismatches], dtype="string"),
            "member_no": pd.array([_int_or_na(mem_rows[r].get("member_no")) for _, _, r in mismatches],
                                  dtype="Int32"),
            "field": "family_id", "value": [_value_text(v) for _, v, _ in mismatches],
            "allowed": [f"the enclosing family's id {f!s} or no family_id" for f, _, _ in mismatches],
            "severity": ERROR, "check": "json_family_id",
            "message": [f"members family {f}, member {_int_or_na(mem_rows[r].get('member_no'))}: family_id "
                        f"{_value_text(v)!r} does not match the enclosing family; allowed: the enclosing family's "
                        f"id {f} or no family_id." for f, v, r in mismatches],
        }).astype(empty_problems().dtypes.to_dict())
    return families, members, extra


def _int_or_na(value: object) -> object:
    try:
        return int(value) if value is not None and float(value) == int(value) else pd.NA  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return pd.NA


def _records_frame(rows: list[dict], table: str) -> pd.DataFrame:
    """Records to a frame holding at least every contract column (absent keys are null)."""
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame(index=pd.RangeIndex(0))
    for spec in schema.table_fields(table):
        if spec.name not in frame.columns:
            frame[spec.name] = pd.Series([None] * len(frame), dtype=object)
    return frame


def validate_family_json(payload: dict | list[dict]) -> ValidationResult:
    """Validate one family (or a list of families) given as JSON objects with their members.

    Same path as Parquet input: the payload becomes a families and a members frame and goes through
    `validate_population`.
    """
    families, members, extra = family_json_frames(payload)
    return validate_population(families, members, extra_problems=extra)
