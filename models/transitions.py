"""Period-over-period comparison of two rankings (issue 6 §2): the decile transition matrix, families
entering and leaving each program with the reason, and graduations.

A ranking here is a DataFrame with one row per family: family_id, desil (1..10), people (>= 0),
exclusion_rule (<NA> when none; optional, absent = no rule) and, for per-province summaries,
province_code. Program eligibility is recomputed from desil and exclusion_rule with
`models.programs` (one rule implementation), not read from stored columns.

Reasons: a family ENTERS a program when it was not eligible before and is now (`new_family` when it
is only in the current ranking; else `exclusion_rule` when the previous ranking had a rule that is
now lifted; else `desil_moved`). It LEAVES when it was eligible and no longer is (`family_gone` when
it is only in the previous ranking; else `exclusion_rule` when a rule now applies; else
`desil_moved`). A rule takes precedence over a desil move because it excludes whatever the desil.
A graduation at program line K: a family in both rankings that moved from desil <= K to desil > K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from config import Program
from models.programs import eligible_mask
from models.programs import program as program_by_name
from models.programs import programs as program_table

N_DESIL = 10
DESILS = pd.Index(range(1, N_DESIL + 1))
FLOW_REASONS: tuple[str, ...] = ("desil_moved", "exclusion_rule", "new_family", "family_gone")


def _check(df: pd.DataFrame, name: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    missing = [c for c in ("family_id", "desil", "people", *extra) if c not in df.columns]
    if missing:
        raise ValueError(f"{name} ranking lacks column(s) {missing}")
    optional = ("exclusion_rule", "province_code", *extra)
    keep = ["family_id", "desil", "people"] + list(dict.fromkeys(c for c in optional if c in df.columns))
    out = df[keep].reset_index(drop=True).copy()
    out["family_id"] = out["family_id"].astype("string")
    dup = out["family_id"].duplicated()
    if dup.any():
        raise ValueError(f"{name} ranking: family {out.loc[dup, 'family_id'].iloc[0]!r} appears more than once")
    for field, lo, hi in (("desil", 1, N_DESIL), ("people", 0, 10_000)):
        v = pd.to_numeric(out[field], errors="coerce").astype("float64")
        bad = (v.isna() | (v < lo) | (v > hi) | (v != v.round())).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name} ranking.{field}: family {out['family_id'].iloc[i]!r} has value "
                             f"{df[field].iloc[i]!r}; allowed: an integer in [{lo}, {hi}]")
        out[field] = v.astype(np.int64)
    if "exclusion_rule" not in out:
        out["exclusion_rule"] = pd.array([pd.NA] * len(out), dtype="string")
    out["exclusion_rule"] = out["exclusion_rule"].astype("string")
    for col in dict.fromkeys(("province_code", *extra)):
        if col in out:
            out[col] = out[col].astype("string")
    return out


@dataclass(frozen=True)
class TransitionMatrix:
    """Decile transitions over families in both rankings (rows: previous desil, columns: current).

    families: 10x10 int64 counts of families; people: 10x10 int64 people (current family size).
    Reconciliation: families.sum() == in_both; previous_families == in_both + gone_families;
    current_families == in_both + new_families (same for people, with each period's sizes).
    """

    families: pd.DataFrame
    people: pd.DataFrame
    in_both: int
    new_families: int
    gone_families: int
    new_people: int
    gone_people: int
    previous_families: int
    current_families: int
    previous_people: int
    current_people: int


def _matrix(prev_d: np.ndarray, curr_d: np.ndarray, weights: np.ndarray) -> pd.DataFrame:
    counts = np.zeros((N_DESIL, N_DESIL), dtype=np.int64)
    np.add.at(counts, (prev_d - 1, curr_d - 1), weights)
    return pd.DataFrame(counts, index=DESILS.rename("desil_previous"), columns=DESILS.rename("desil_current"))


def transition_matrix(prev: pd.DataFrame, curr: pd.DataFrame) -> TransitionMatrix:
    """Decile transition matrices between two rankings (module docstring for the columns)."""
    p, c = _check(prev, "previous"), _check(curr, "current")
    both = p.merge(c, on="family_id", suffixes=("_prev", "_curr"))
    gone = ~p["family_id"].isin(c["family_id"])
    new = ~c["family_id"].isin(p["family_id"])
    prev_d = both["desil_prev"].to_numpy()
    curr_d = both["desil_curr"].to_numpy()
    return TransitionMatrix(
        families=_matrix(prev_d, curr_d, np.ones(len(both), dtype=np.int64)),
        people=_matrix(prev_d, curr_d, both["people_curr"].to_numpy()),
        in_both=len(both), new_families=int(new.sum()), gone_families=int(gone.sum()),
        new_people=int(c.loc[new, "people"].sum()), gone_people=int(p.loc[gone, "people"].sum()),
        previous_families=len(p), current_families=len(c),
        previous_people=int(p["people"].sum()), current_people=int(c["people"].sum()),
    )


def _program(prog: str | Program) -> Program:
    return prog if isinstance(prog, Program) else program_by_name(prog)


def program_flows(prev: pd.DataFrame, curr: pd.DataFrame, program: str | Program) -> pd.DataFrame:
    """Families entering or leaving `program` between two rankings, one row per moving family.

    Columns: family_id, direction ('entering'|'leaving'), reason (FLOW_REASONS), desil_previous,
    desil_current (<NA> where absent), exclusion_rule_previous, exclusion_rule_current, people
    (current size when entering, previous size when leaving), province_code (current province when
    entering, previous when leaving; only when the rankings carry province_code), graduated (bool:
    moved from desil <= line to above it). Sorted by direction, reason, family_id.
    """
    prog = _program(program)
    p, c = _check(prev, "previous"), _check(curr, "current")
    both = p.merge(c, on="family_id", how="outer", suffixes=("_previous", "_current"), indicator=True)
    in_prev = both["_merge"].ne("right_only").to_numpy()
    in_curr = both["_merge"].ne("left_only").to_numpy()
    rule_prev = both["exclusion_rule_previous"].notna().to_numpy()
    rule_curr = both["exclusion_rule_current"].notna().to_numpy()
    d_prev = both["desil_previous"].fillna(N_DESIL + 1).to_numpy(dtype=np.int64)
    d_curr = both["desil_current"].fillna(N_DESIL + 1).to_numpy(dtype=np.int64)
    elig_prev = in_prev & eligible_mask(d_prev, rule_prev, prog.max_desil)
    elig_curr = in_curr & eligible_mask(d_curr, rule_curr, prog.max_desil)
    entering = ~elig_prev & elig_curr
    leaving = elig_prev & ~elig_curr
    reason_in = np.select([~in_prev, rule_prev], ["new_family", "exclusion_rule"], "desil_moved")
    reason_out = np.select([~in_curr, rule_curr], ["family_gone", "exclusion_rule"], "desil_moved")
    moving = entering | leaving
    out = pd.DataFrame({
        "family_id": both["family_id"].to_numpy(),
        "direction": np.where(entering, "entering", "leaving"),
        "reason": np.where(entering, reason_in, reason_out),
        "desil_previous": both["desil_previous"].astype("Int8"),
        "desil_current": both["desil_current"].astype("Int8"),
        "exclusion_rule_previous": both["exclusion_rule_previous"],
        "exclusion_rule_current": both["exclusion_rule_current"],
        "people": np.where(entering, both["people_current"].fillna(0), both["people_previous"].fillna(0)),
        "graduated": in_prev & in_curr & (d_prev <= prog.max_desil) & (d_curr > prog.max_desil),
    })
    if "province_code_previous" in both and "province_code_current" in both:
        out["province_code"] = np.where(entering, both["province_code_current"], both["province_code_previous"])
        out["province_code"] = out["province_code"].astype("string")
    out = out[moving].astype({"family_id": "string", "direction": "string", "reason": "string", "people": "int64"})
    return out.sort_values(["direction", "reason", "family_id"], kind="mergesort").reset_index(drop=True)


def flow_summary(prev: pd.DataFrame, curr: pd.DataFrame, programs: tuple[str | Program, ...] | None = None,
                 group: str = "province_code") -> pd.DataFrame:
    """Per (group, program): eligible families before/after, entering and leaving by reason, and
    graduations (families in both rankings that moved from desil <= the program line to above it;
    for PKH: left desil 1-4 upward).

    Both rankings need column `group`. Entering families count in their current group; leaving
    families and graduations in their previous / current group respectively; eligible_previous in the
    previous group and eligible_current in the current one. Per program, summed over groups:
    eligible_previous + entering - leaving == eligible_current (families and people).
    Columns: group, program, eligible_previous, eligible_current, entering, entering_<reason>,
    leaving, leaving_<reason>, people_entering, people_leaving, eligible_people_previous,
    eligible_people_current, graduations.
    """
    # program_flows reports the group in its 'province_code' column; give it the chosen group there.
    p = _check(prev, "previous", (group,))
    c = _check(curr, "current", (group,))
    p = p.drop(columns=[x for x in ("province_code",) if x != group and x in p]).rename(columns={group: "group"})
    c = c.drop(columns=[x for x in ("province_code",) if x != group and x in c]).rename(columns={group: "group"})
    progs = [_program(x) for x in (programs if programs is not None else program_table())]
    both = p.merge(c, on="family_id", suffixes=("_prev", "_curr"))
    frames = []
    for prog in progs:
        def eligible(df: pd.DataFrame, line: int = prog.max_desil) -> np.ndarray:
            return eligible_mask(df["desil"].to_numpy(dtype=np.float64), df["exclusion_rule"].notna(), line)

        flows = program_flows(p.rename(columns={"group": "province_code"}),
                              c.rename(columns={"group": "province_code"}), prog)
        cols: dict[str, pd.Series] = {
            "eligible_previous": p[eligible(p)].groupby("group").size(),
            "eligible_current": c[eligible(c)].groupby("group").size(),
            "eligible_people_previous": p[eligible(p)].groupby("group")["people"].sum(),
            "eligible_people_current": c[eligible(c)].groupby("group")["people"].sum(),
        }
        for direction, reasons in (("entering", ("desil_moved", "exclusion_rule", "new_family")),
                                   ("leaving", ("desil_moved", "exclusion_rule", "family_gone"))):
            f = flows[flows["direction"] == direction]
            cols[direction] = f.groupby("province_code").size()
            cols[f"people_{direction}"] = f.groupby("province_code")["people"].sum()
            for reason in reasons:
                cols[f"{direction}_{reason}"] = f[f["reason"] == reason].groupby("province_code").size()
        grad = both[(both["desil_prev"] <= prog.max_desil) & (both["desil_curr"] > prog.max_desil)]
        cols["graduations"] = grad.groupby("group_curr").size()
        table = pd.DataFrame(cols).fillna(0).astype(np.int64)
        table.index.name = group
        order = ["eligible_previous", "eligible_current", "entering", "entering_desil_moved",
                 "entering_exclusion_rule", "entering_new_family", "leaving", "leaving_desil_moved",
                 "leaving_exclusion_rule", "leaving_family_gone", "people_entering", "people_leaving",
                 "eligible_people_previous", "eligible_people_current", "graduations"]
        table = table.reindex(columns=order, fill_value=0).reset_index()
        table.insert(1, "program", prog.name)
        frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    out[group] = out[group].astype("string")
    return out.sort_values([group, "program"], kind="mergesort").reset_index(drop=True)
