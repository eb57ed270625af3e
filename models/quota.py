"""Regional quota allocation and redistribution of program recipients (DESIGN §1, issue 6 §3).

1. `allocate_quota`: quota_region = poor_region / poor_national × national quota, rounded by the
   largest-remainder (Hamilton) method so the integer quotas add up EXACTLY to the national quota.
   Shares are computed in exact rational arithmetic; ties in the remainder go to the smaller
   region code (string order), so the result is deterministic.
2. `redistribute`: compares current recipients with the regional quota and lists
   - removals, only in regions over quota, in this order: (1) recipients outside the ranking
     (outside DTSEN), (2) recipients ranked above the program line (desil 10..max_desil+1,
     richest first), (3) recipients with an exclusion rule; it stops as soon as the region is at
     or below its quota. Eligible recipients (desil <= line, no rule) are never removed: a region
     still over quota after the three tiers keeps `over_after` > 0 in the region table.
   - fills, only in regions under quota (after removals), from ranked families with desil <=
     max_desil, no exclusion rule and not already recipients, in priority (1) already ground-checked,
     (2) on the waiting list approved by the regional head, (3) the others; within a priority
     poorest first (lowest desil, then lowest `welfare` when the ranking has it, then family_id).
   Unit 'families' counts families; unit 'people' counts people. A family is never split:
   removal takes whole families while the region is still over quota (the last one may take the
   region below quota; the freed places are then filled), and filling stops at the first family
   in priority order that would take the region above its quota (strict priority: no smaller
   family further down jumps the queue), so a region never exceeds its quota through fills and
   stays under by less than that family's size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import pandas as pd

Unit = Literal["families", "people"]
N_DESIL = 10

REMOVAL_REASONS: dict[int, str] = {1: "outside_ranking", 2: "desil_above_line", 3: "exclusion_rule"}
FILL_REASONS: dict[int, str] = {1: "ground_checked", 2: "waiting_list", 3: "eligible_desil"}


def allocate_quota(poor_by_region: pd.Series, national_quota: int) -> pd.Series:
    """Integer quota per region proportional to its poor count, summing exactly to `national_quota`.

    poor_by_region: index region code (unique), values poor counts (>= 0, finite, at least one > 0;
    people or families, any scale). Returns int64 Series 'quota' with the same index and order.
    Each quota differs from its exact share by less than 1 (largest-remainder property).
    """
    q = int(national_quota)
    if q != national_quota or q < 0:
        raise ValueError(f"national_quota = {national_quota!r}; allowed: an integer >= 0")
    if poor_by_region.index.has_duplicates:
        dup = poor_by_region.index[poor_by_region.index.duplicated()][0]
        raise ValueError(f"poor_by_region: region {dup!r} appears more than once")
    values: list[Fraction] = []
    for region, v in poor_by_region.items():
        if v is None or pd.isna(v) or not math.isfinite(float(v)) or float(v) < 0:
            raise ValueError(f"poor_by_region: region {region!r} has poor count {v!r}; allowed: a finite number >= 0")
        values.append(Fraction(int(v)) if float(v).is_integer() else Fraction(float(v)))
    total = sum(values, Fraction(0))
    if total == 0:
        raise ValueError("poor_by_region: the poor counts sum to 0; cannot share a quota")
    exact = [v * q / total for v in values]
    floors = [math.floor(e) for e in exact]
    left = q - sum(floors)
    codes = [str(r) for r in poor_by_region.index]
    # Largest remainder first; equal remainders go to the smaller region code.
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), codes[i]))
    for i in order[:left]:
        floors[i] += 1
    return pd.Series(np.asarray(floors, dtype=np.int64), index=poor_by_region.index, name="quota")


@dataclass(frozen=True)
class QuotaResult:
    """Outcome of a redistribution.

    regions: index region; quota, current, over, under (before), removed, filled, final,
      over_after, under_after (all in `unit`), removed_families, filled_families.
    removals: region (<NA> for recipients outside the ranking with no region given: always removed,
      counted in no region), order (1.. within region), family_id, desil, people, exclusion_rule,
      tier (1-3), reason (REMOVAL_REASONS).
    fills: region, order, family_id, desil, people, priority (1-3), reason (FILL_REASONS).
    waiting_list_unused: waiting-list rows that cannot be filled, with reason (not_in_ranking,
      region_mismatch, desil_above_line, exclusion_rule, already_recipient).
    """

    unit: Unit
    max_desil: int
    regions: pd.DataFrame
    removals: pd.DataFrame
    fills: pd.DataFrame
    waiting_list_unused: pd.DataFrame


def _require(df: pd.DataFrame, name: str, cols: tuple[str, ...]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}")


def _check_ranking(ranking: pd.DataFrame) -> pd.DataFrame:
    _require(ranking, "ranking", ("family_id", "region", "desil", "people", "exclusion_rule"))
    cols = ["family_id", "region", "desil", "people", "exclusion_rule"]
    has_welfare = "welfare" in ranking.columns
    r = ranking[cols + (["welfare"] if has_welfare else [])].reset_index(drop=True).copy()
    r["family_id"] = r["family_id"].astype("string")
    if r["family_id"].isna().any():
        raise ValueError("ranking.family_id: a row has no family id")
    dup = r["family_id"].duplicated()
    if dup.any():
        raise ValueError(f"ranking.family_id: {r.loc[dup, 'family_id'].iloc[0]!r} appears more than once")
    r["region"] = r["region"].astype("string")
    if r["region"].isna().any():
        raise ValueError(f"ranking.region: family {r.loc[r['region'].isna(), 'family_id'].iloc[0]!r} has no "
                         "region; allowed: a region code (required)")
    for field, lo, hi in (("desil", 1, N_DESIL), ("people", 1, 10_000)):
        v = pd.to_numeric(r[field], errors="coerce").astype("float64")
        bad = (v.isna() | (v < lo) | (v > hi) | (v != v.round())).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"ranking.{field}: family {r['family_id'].iloc[i]!r} has value "
                             f"{ranking[field].iloc[i]!r}; allowed: an integer in [{lo}, {hi}]")
        r[field] = v.astype(np.int64)
    r["exclusion_rule"] = r["exclusion_rule"].astype("string")
    r["welfare"] = r["welfare"].astype("float64") if has_welfare else np.nan
    return r


def _recipients_frame(recipients: pd.Series | pd.DataFrame | None) -> pd.DataFrame:
    if recipients is None:
        return pd.DataFrame({"family_id": pd.Series(dtype="string")})
    if isinstance(recipients, pd.Series):
        rec = pd.DataFrame({"family_id": recipients.to_numpy()})
    else:
        _require(recipients, "recipients", ("family_id",))
        rec = recipients[[c for c in ("family_id", "region", "people") if c in recipients.columns]]
        rec = rec.reset_index(drop=True).copy()
    rec["family_id"] = rec["family_id"].astype("string")
    dup = rec["family_id"].duplicated()
    if dup.any():
        raise ValueError(f"recipients: family {rec.loc[dup, 'family_id'].iloc[0]!r} appears more than once")
    if rec["family_id"].isna().any():
        raise ValueError("recipients: a row has no family id")
    return rec


def _rank_within(df: pd.DataFrame, sort_cols: list[str], ascending: list[bool]) -> pd.DataFrame:
    df = df.sort_values(sort_cols, ascending=ascending, kind="mergesort", na_position="last")
    df = df.reset_index(drop=True)
    df["order"] = df.groupby("region", sort=False).cumcount() + 1
    return df


def _take(df: pd.DataFrame, budget: pd.Series, mode: Literal["remove", "fill"]) -> pd.DataFrame:
    """Rows of `df` (sorted within region) taken against each region's budget in `unit`."""
    if df.empty:
        return df
    units = df["units"].to_numpy(dtype=np.int64)
    b = df["region"].map(budget).fillna(0).to_numpy(dtype=np.int64)
    cum_incl = df.groupby("region", sort=False)["units"].cumsum().to_numpy(dtype=np.int64)
    # remove: whole families while the region is still over quota (the last one may go below);
    # fill: whole families up to the first one that does not fit (cum_incl rises within a region).
    keep = (cum_incl - units) < b if mode == "remove" else cum_incl <= b
    return df[keep].reset_index(drop=True)


def redistribute(ranking: pd.DataFrame, quota: pd.Series, unit: Unit,
                 recipients: pd.Series | pd.DataFrame | None = None,
                 waiting_list: pd.DataFrame | None = None,
                 ground_checked: pd.Series | None = None,
                 max_desil: int = 5) -> QuotaResult:
    """Removal and fill lists that bring each region's recipients to its quota (module docstring rules).

    ranking: one row per ranked family: family_id, region, desil (1..10), people (>= 1),
      exclusion_rule (<NA> when none), optional welfare (lower = poorer; breaks ties in desil).
    quota: index region (every ranking region must appear), values integer quota in `unit`.
    recipients: current recipients: a Series of family ids, or a DataFrame with family_id and
      optionally region and people (used only for families outside the ranking; the ranking wins
      for ranked families). None = no current recipients.
    waiting_list: DataFrame[family_id, region] approved by the regional head.
    ground_checked: bool Series indexed by family_id (missing = not ground-checked).
    max_desil: the program line (5 for Sembako/PBI-JK/ATENSI, 4 for PKH).
    """
    if unit not in ("families", "people"):
        raise ValueError(f"unit = {unit!r}; allowed: 'families' or 'people'")
    if not 1 <= int(max_desil) <= N_DESIL:
        raise ValueError(f"max_desil = {max_desil}; allowed: an integer in [1, {N_DESIL}]")
    rank = _check_ranking(ranking)
    quota = quota.copy()
    quota.index = quota.index.astype("string")
    if quota.index.has_duplicates:
        raise ValueError(f"quota: region {quota.index[quota.index.duplicated()][0]!r} appears more than once")
    qv = pd.to_numeric(quota, errors="coerce")
    bad_q = qv.isna() | (qv < 0) | (qv != qv.round())
    if bad_q.any():
        region = quota.index[bad_q.to_numpy()][0]
        raise ValueError(f"quota: region {region!r} has quota {quota[region]!r}; allowed: an integer >= 0")
    quota = qv.astype(np.int64)
    no_quota = sorted(set(rank["region"].unique()) - set(quota.index))
    if no_quota:
        raise ValueError(f"ranking has families in region(s) {no_quota[:5]} that have no quota "
                         f"({len(no_quota)} region(s)); give every ranked region a quota (0 allowed)")

    rank["units"] = 1 if unit == "families" else rank["people"]

    # --- current recipients -------------------------------------------------------------------
    rec = _recipients_frame(recipients)
    in_rank = rec["family_id"].isin(rank["family_id"])
    inside = rank[rank["family_id"].isin(rec["family_id"])].copy()
    outside = rec[~in_rank].copy()
    outside["region"] = outside["region"].astype("string") if "region" in outside else pd.NA
    outside["region"] = outside["region"].astype("string")
    unknown_region = outside["region"].notna() & ~outside["region"].isin(quota.index)
    if unknown_region.any():
        row = outside[unknown_region].iloc[0]
        raise ValueError(f"recipients.region: family {row['family_id']!r} has region {row['region']!r}, "
                         "which has no quota")
    if "people" in outside:
        outside["people"] = pd.to_numeric(outside["people"], errors="coerce").astype("Int64")
    else:
        outside["people"] = pd.array([pd.NA] * len(outside), dtype="Int64")
    if unit == "people":
        lacking = outside["region"].notna() & outside["people"].isna()
        if lacking.any():
            raise ValueError(f"recipients.people: family {outside.loc[lacking, 'family_id'].iloc[0]!r} is "
                             "outside the ranking with a region but no people count; unit 'people' needs it")
    outside["units"] = 1 if unit == "families" else outside["people"].fillna(0).astype(np.int64)
    outside["desil"] = pd.NA
    outside["exclusion_rule"] = pd.array([pd.NA] * len(outside), dtype="string")
    outside["welfare"] = np.nan

    current = pd.concat([inside.groupby("region")["units"].sum(),
                         outside[outside["region"].notna()].groupby("region")["units"].sum()])
    current = current.groupby(level=0).sum().reindex(quota.index, fill_value=0).astype(np.int64)
    over = (current - quota).clip(lower=0)

    # --- removals -------------------------------------------------------------------------------
    inside["tier"] = np.select([inside["desil"] > max_desil, inside["exclusion_rule"].notna()], [2, 3], 0)
    outside["tier"] = 1
    cols = ["family_id", "region", "desil", "people", "exclusion_rule", "welfare", "units", "tier"]
    regional_outside = outside[outside["region"].notna()]
    cand = pd.concat([regional_outside[cols], inside.loc[inside["tier"] > 0, cols]], ignore_index=True)
    cand["desil"] = cand["desil"].astype("Int64")
    cand["neg_desil"] = -cand["desil"]
    cand["neg_welfare"] = -cand["welfare"]
    cand = _rank_within(cand, ["region", "tier", "neg_desil", "neg_welfare", "family_id"],
                        [True, True, True, True, True])
    removed = _take(cand, over, "remove")
    unplaced = outside[outside["region"].isna()][cols].copy()
    removed = pd.concat([unplaced.assign(order=np.arange(1, len(unplaced) + 1)), removed], ignore_index=True)
    removed["reason"] = removed["tier"].map(REMOVAL_REASONS)
    removals = removed[["region", "order", "family_id", "desil", "people", "exclusion_rule", "tier", "reason"]]
    removals = removals.astype({"region": "string", "desil": "Int8", "people": "Int64", "tier": "int8",
                                "reason": "string", "order": "int64"})
    removed_units = removed[removed["region"].notna()].groupby("region")["units"].sum()
    removed_units = removed_units.reindex(quota.index, fill_value=0).astype(np.int64)
    after = current - removed_units

    # --- waiting list and fills ------------------------------------------------------------------
    wl_ok, unused = _waiting_list(waiting_list, rank, set(rec["family_id"]), max_desil)
    gc = pd.Series(dtype="boolean") if ground_checked is None else ground_checked.astype("boolean")
    gc.index = gc.index.astype("string")
    pool = rank[(rank["desil"] <= max_desil) & rank["exclusion_rule"].isna()
                & ~rank["family_id"].isin(rec["family_id"])].copy()
    is_gc = pool["family_id"].map(gc).fillna(False).astype(bool)
    on_wl = pool["family_id"].isin(wl_ok)
    pool["priority"] = np.select([is_gc, on_wl], [1, 2], 3)
    pool = _rank_within(pool, ["region", "priority", "desil", "welfare", "family_id"], [True] * 5)
    need = (quota - after).clip(lower=0)
    filled = _take(pool, need, "fill")
    filled["reason"] = filled["priority"].map(FILL_REASONS)
    fills = filled[["region", "order", "family_id", "desil", "people", "priority", "reason"]].astype(
        {"region": "string", "desil": "Int8", "people": "Int64", "priority": "int8", "reason": "string"})
    filled_units = filled.groupby("region")["units"].sum().reindex(quota.index, fill_value=0).astype(np.int64)

    final = after + filled_units
    regions = pd.DataFrame({
        "quota": quota, "current": current, "over": over, "under": (quota - current).clip(lower=0),
        "removed": removed_units, "filled": filled_units, "final": final,
        "over_after": (final - quota).clip(lower=0), "under_after": (quota - final).clip(lower=0),
        "removed_families": removals.groupby("region").size().reindex(quota.index, fill_value=0),
        "filled_families": fills.groupby("region").size().reindex(quota.index, fill_value=0),
    })
    regions.index.name = "region"
    return QuotaResult(unit=unit, max_desil=int(max_desil), regions=regions.astype(np.int64),
                       removals=removals, fills=fills, waiting_list_unused=unused)


def _waiting_list(waiting_list: pd.DataFrame | None, rank: pd.DataFrame, recipient_ids: set[str],
                  max_desil: int) -> tuple[set[str], pd.DataFrame]:
    """Valid waiting-list family ids, and the rows that cannot be used with their reason."""
    empty = pd.DataFrame({"family_id": pd.Series(dtype="string"), "region": pd.Series(dtype="string"),
                          "reason": pd.Series(dtype="string")})
    if waiting_list is None or waiting_list.empty:
        return set(), empty
    _require(waiting_list, "waiting_list", ("family_id", "region"))
    wl = waiting_list[["family_id", "region"]].astype("string").reset_index(drop=True)
    dup = wl["family_id"].duplicated()
    if dup.any():
        raise ValueError(f"waiting_list: family {wl.loc[dup, 'family_id'].iloc[0]!r} appears more than once")
    info = rank.set_index("family_id")[["region", "desil", "exclusion_rule"]].rename(
        columns={"region": "region_ranked"})
    joined = wl.join(info, on="family_id")
    conditions = [joined["region_ranked"].isna(),
                  joined["region"].ne(joined["region_ranked"]),
                  joined["desil"].gt(max_desil),
                  joined["exclusion_rule"].notna(),
                  joined["family_id"].isin(recipient_ids)]
    reason = np.select(
        [c.astype("boolean").fillna(True).to_numpy(dtype=bool) for c in conditions],
        ["not_in_ranking", "region_mismatch", "desil_above_line", "exclusion_rule", "already_recipient"],
        "")
    bad = reason != ""
    unused = wl[bad].assign(reason=reason[bad]).astype({"reason": "string"}).reset_index(drop=True)
    return set(wl.loc[~bad, "family_id"]), unused
