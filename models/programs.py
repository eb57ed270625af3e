"""Program rules of Kepmensos 79/HUK/2025: which deciles each program takes, and the exclusion
rules that make a family ineligible whatever its desil (DESIGN §1).

The program table (name, max_desil, quota, unit) lives in `config/programs.yaml`
(`config.programs_config()`); this module only applies it. Exclusion rules are facts recorded in
the data (`families.ground_check_status`, `families.refused_program`, `members.negative_list`,
see features/schema.py), applied after the model: they are rules, not model output.

Rule order (the FIRST applicable rule is reported for a family):
1. ground check outcome 2/3/4: `address_not_found`, `family_not_found`, `deceased`;
2. `refused_program`;
3. the lowest negative-list code (1..12) held by any member. A member's fact excludes the whole
   family, which is how "or a family member of one" is covered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from config import Program, programs_config
from features.schema import GROUND_CHECK_STATUS, NEGATIVE_LIST

N_DESIL = 10


@dataclass(frozen=True)
class ExclusionRule:
    """One exclusion rule: stable snake_case name, the field and code it reads, schema labels."""

    name: str
    field: str  # "ground_check_status" | "refused_program" | "negative_list"
    code: int | None  # category code (None for the refused_program flag)
    label_en: str
    label_id: str


# Stable names per schema code. The labels come from the schema; names never change once published
# (they are written to ranking files and compared across quarters).
_GROUND_CHECK_NAMES: dict[int, str] = {2: "address_not_found", 3: "family_not_found", 4: "deceased"}
_NEGATIVE_LIST_NAMES: dict[int, str] = {
    1: "civil_servant_military_police",
    2: "state_enterprise_employee",
    3: "state_official",
    4: "state_pensioner",
    5: "social_welfare_staff",
    6: "certified_teacher",
    7: "state_budget_income",
    8: "income_above_minimum_wage",
    9: "company_owner_or_executive",
    10: "registered_health_worker",
    11: "village_official",
    12: "gambling_involvement",
}


def _build_rules() -> tuple[ExclusionRule, ...]:
    ground = {c.code: c for c in GROUND_CHECK_STATUS}
    negative = {c.code: c for c in NEGATIVE_LIST if c.code != 0}
    if set(ground) - {1} != set(_GROUND_CHECK_NAMES) or set(negative) != set(_NEGATIVE_LIST_NAMES):
        raise RuntimeError("features/schema.py exclusion codes changed; update models/programs.py rule names")
    rules = [ExclusionRule(name, "ground_check_status", code, ground[code].label_en, ground[code].label_id)
             for code, name in sorted(_GROUND_CHECK_NAMES.items())]
    rules.append(ExclusionRule("refused_program", "refused_program", None, "refused the program",
                               "menolak bantuan"))
    rules += [ExclusionRule(name, "negative_list", code, negative[code].label_en, negative[code].label_id)
              for code, name in sorted(_NEGATIVE_LIST_NAMES.items())]
    return tuple(rules)


EXCLUSION_RULES: tuple[ExclusionRule, ...] = _build_rules()
RULES_BY_NAME: dict[str, ExclusionRule] = {r.name: r for r in EXCLUSION_RULES}


def rule_text(name: str, lang: str = "en") -> str:
    """Human text of a rule name ('en' gloss or 'id' Indonesian label from the schema)."""
    try:
        rule = RULES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown exclusion rule {name!r}; rules are {list(RULES_BY_NAME)}") from None
    return rule.label_en if lang == "en" else rule.label_id


def programs() -> tuple[Program, ...]:
    """The configured program table (config/programs.yaml), in file order."""
    return tuple(programs_config().programs)


def program(name: str) -> Program:
    """One configured program by name (e.g. 'PKH', 'PBI-JK')."""
    table = programs_config().by_name()
    try:
        return table[name]
    except KeyError:
        raise KeyError(f"unknown program {name!r}; programs are {list(table)}") from None


def eligible_column(name: str) -> str:
    """Name of the bool column saying a family is eligible for program `name` (e.g. 'eligible_PKH')."""
    return f"eligible_{name}"


def _codes(values: pd.Series, ids: pd.Series, table: str, field: str, allowed: set[int]) -> np.ndarray:
    """Category codes as int64, or ValueError naming the first family with a missing/unknown code."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        num = values.to_numpy(dtype=np.float64, na_value=np.nan)  # validated storage dtypes (Int8 ...)
    else:
        num = pd.to_numeric(pd.Series(values.to_numpy(), dtype="object"), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isin(num, np.fromiter(allowed, dtype=np.float64))  # NaN (missing or non-numeric) is bad too
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{table}.{field}: family {ids.iloc[i]!r} has value {values.iloc[i]!r}; allowed: codes "
            f"{sorted(allowed)} (required) [{int(bad.sum())} bad row(s)]")
    return num.astype(np.int64)


def exclusion_rule(families: pd.DataFrame, members: pd.DataFrame) -> pd.Series:
    """The first applicable exclusion rule per family.

    families: columns family_id (unique), ground_check_status (codes 1-4), refused_program (bool).
    members: columns family_id (each must be in `families`), negative_list (codes 0-12).
    Returns a 'string' Series named 'exclusion_rule', index family_id in the order of `families`,
    holding a rule name from EXCLUSION_RULES or <NA> when no rule applies. Raises ValueError naming
    the family, field and value on a missing/unknown code or an unknown member family.
    """
    for table, df, cols in (("families", families, ("family_id", "ground_check_status", "refused_program")),
                            ("members", members, ("family_id", "negative_list"))):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{table} lacks column(s) {missing} needed by the exclusion rules")
    ids = families["family_id"].astype("string").reset_index(drop=True)
    dup = ids.duplicated()
    if dup.any():
        raise ValueError(f"families.family_id: {ids[dup].iloc[0]!r} appears more than once")

    ground_code = _codes(families["ground_check_status"], ids, "families", "ground_check_status",
                         {c.code for c in GROUND_CHECK_STATUS})
    refused = families["refused_program"].reset_index(drop=True)
    bad_refused = refused.isna() if pd.api.types.is_bool_dtype(refused.dtype) else (
        refused.isna() | ~refused.isin([True, False]))
    if bad_refused.any():
        i = int(np.flatnonzero(bad_refused.to_numpy())[0])
        raise ValueError(f"families.refused_program: family {ids.iloc[i]!r} has value {refused.iloc[i]!r}; "
                         "allowed: true or false (required)")

    m_ids = members["family_id"].astype("string").reset_index(drop=True)
    neg_code = _codes(members["negative_list"], m_ids, "members", "negative_list", {c.code for c in NEGATIVE_LIST})
    pos = pd.Index(ids).get_indexer(m_ids)
    orphan = pos < 0
    if orphan.any():
        raise ValueError(f"members.family_id: {m_ids[orphan].iloc[0]!r} is not in families "
                         f"[{int(orphan.sum())} member row(s) without a family]")

    # Lowest non-zero negative-list code per family (NO_CODE = no member flagged).
    no_code = len(_NEGATIVE_LIST_NAMES) + 1
    member_code = np.full(len(ids), no_code, dtype=np.int64)
    flagged = neg_code > 0
    np.minimum.at(member_code, pos[flagged], neg_code[flagged])
    neg_names = np.array([None] + [_NEGATIVE_LIST_NAMES[c] for c in range(1, no_code)] + [None], dtype=object)
    member_rule = neg_names[member_code]
    ground_names = np.array([_GROUND_CHECK_NAMES.get(c) for c in range(max(_GROUND_CHECK_NAMES) + 1)], dtype=object)
    ground_rule = ground_names[ground_code]
    # First applicable rule: ground check, then refusal, then members' negative list.
    out = np.where(pd.notna(ground_rule), ground_rule,
                   np.where(refused.to_numpy(dtype=bool), "refused_program", member_rule))
    return pd.Series(out, index=pd.Index(ids.to_numpy(), name="family_id", dtype="string"),
                     name="exclusion_rule", dtype="string")


def eligible_mask(desil: npt.ArrayLike, has_rule: npt.ArrayLike, max_desil: int) -> np.ndarray:
    """THE eligibility rule of one program: desil <= max_desil and no exclusion rule (bool array)."""
    return ~np.asarray(has_rule, dtype=bool) & (np.asarray(desil, dtype=np.float64) <= max_desil)


def eligible_programs(desil: npt.ArrayLike, exclusion: pd.Series,
                      program_table: tuple[Program, ...] | None = None) -> pd.DataFrame:
    """Program eligibility per family: desil <= program.max_desil and no exclusion rule.

    desil: shape (n,), integers 1..10, aligned by position with `exclusion` (rule name or <NA>).
    Returns a DataFrame with `exclusion`'s index: one bool column `eligible_<program>` per program
    in table order, and `programs` (string): the eligible program names joined with ';', '' when none.
    """
    d = np.asarray(desil)
    if d.ndim != 1 or len(d) != len(exclusion):
        raise ValueError(f"desil has shape {d.shape} but exclusion has {len(exclusion)} rows")
    d_num = (d.astype(np.float64) if d.dtype.kind in "iuf"
             else pd.to_numeric(pd.Series(d), errors="coerce").to_numpy(dtype=np.float64))
    bad = np.isnan(d_num) | (d_num < 1) | (d_num > N_DESIL) | (d_num != np.round(d_num))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"desil: family {exclusion.index[i]!r} has value {d[i]!r}; allowed: an integer in [1, 10]")
    free = exclusion.isna().to_numpy()
    table = program_table if program_table is not None else programs()
    columns: dict[str, object] = {}
    joined = np.full(len(d), "", dtype=object)
    for prog in table:
        ok = eligible_mask(d_num, ~free, prog.max_desil)
        columns[eligible_column(prog.name)] = ok
        sep = np.where(joined == "", "", ";")
        joined = np.where(ok, joined + sep + prog.name, joined)
    columns["programs"] = pd.array(joined, dtype="string")
    return pd.DataFrame(columns, index=exclusion.index)
