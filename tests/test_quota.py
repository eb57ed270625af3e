"""Regional quotas: exact largest-remainder allocation and the removal/fill priority rules."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import programs_config
from models.quota import allocate_quota, redistribute


# --------------------------------------------------------------------------------------------
# allocate_quota
# --------------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(poor=st.lists(st.one_of(st.integers(0, 30_000_000), st.floats(0, 5e6, allow_nan=False)),
                     min_size=1, max_size=40),
       national=st.integers(0, 300_000_000))
def test_quotas_sum_exactly_and_stay_within_one_of_the_exact_share(poor, national):
    if sum(poor) == 0:
        poor[0] = 1
    regions = [f"{i + 11:02d}" for i in range(len(poor))]
    q = allocate_quota(pd.Series(poor, index=regions), national)
    assert q.dtype == np.int64 and list(q.index) == regions
    assert int(q.sum()) == national
    total = sum(Fraction(v) for v in poor)
    for region, v in zip(regions, poor, strict=True):
        exact = Fraction(v) * national / total
        assert abs(Fraction(int(q[region])) - exact) < 1
        assert q[region] >= 0


def test_proportional_when_shares_are_whole():
    q = allocate_quota(pd.Series([100, 200, 300, 400], index=["a", "b", "c", "d"]), 1000)
    assert q.tolist() == [100, 200, 300, 400]


def test_largest_remainder_by_hand():
    # exact shares of 7: 3.5, 2.1, 1.4 -> floors 3, 2, 1 (sum 6); the one left goes to the largest
    # remainder (0.5, region 'x').
    q = allocate_quota(pd.Series([5, 3, 2], index=["x", "y", "z"]), 7)
    assert q.tolist() == [4, 2, 1]


def test_ties_go_to_the_smaller_region_code_whatever_the_input_order():
    a = allocate_quota(pd.Series([1, 1, 1], index=["33", "12", "21"]), 10)
    b = allocate_quota(pd.Series([1, 1, 1], index=["21", "33", "12"]), 10)
    assert a.to_dict() == b.to_dict() == {"12": 4, "21": 3, "33": 3}


def test_allocate_refuses_bad_input():
    with pytest.raises(ValueError, match="region 'b'.*-1"):
        allocate_quota(pd.Series([1, -1], index=["a", "b"]), 5)
    with pytest.raises(ValueError, match="sum to 0"):
        allocate_quota(pd.Series([0, 0], index=["a", "b"]), 5)
    with pytest.raises(ValueError, match="more than once"):
        allocate_quota(pd.Series([1, 2], index=["a", "a"]), 5)
    with pytest.raises(ValueError, match="national_quota"):
        allocate_quota(pd.Series([1], index=["a"]), -3)


# --------------------------------------------------------------------------------------------
# redistribute: hand-built regions
# --------------------------------------------------------------------------------------------
def _ranking(rows) -> pd.DataFrame:
    """rows: (family_id, region, desil, people, exclusion_rule or None)."""
    return pd.DataFrame({
        "family_id": [r[0] for r in rows], "region": [r[1] for r in rows],
        "desil": [r[2] for r in rows], "people": [r[3] for r in rows],
        "exclusion_rule": pd.array([r[4] for r in rows], dtype="string"),
    })


OVER_REGION = [
    ("fam-d1", "A", 1, 3, None),
    ("fam-d3", "A", 3, 2, None),
    ("fam-x2", "A", 2, 4, "certified_teacher"),
    ("fam-d7", "A", 7, 5, None),
    ("fam-d9", "A", 9, 1, None),
]


def test_removal_order_outside_ranking_then_richest_then_excluded():
    ranking = _ranking(OVER_REGION)
    recipients = pd.DataFrame({"family_id": ["fam-d1", "fam-d3", "fam-x2", "fam-d7", "fam-d9", "out-1"],
                               "region": ["A"] * 6, "people": [3, 2, 4, 5, 1, 6]})
    # 6 recipients, quota 3: remove 3 -> outside DTSEN first, then desil 9, then desil 7.
    res = redistribute(ranking, pd.Series({"A": 3}), "families", recipients=recipients)
    assert res.removals["family_id"].tolist() == ["out-1", "fam-d9", "fam-d7"]
    assert res.removals["reason"].tolist() == ["outside_ranking", "desil_above_line", "desil_above_line"]
    assert res.removals["order"].tolist() == [1, 2, 3]
    assert res.regions.loc["A", ["current", "over", "removed", "final", "over_after"]].tolist() == [6, 3, 3, 3, 0]
    assert res.fills.empty
    # Quota 1: all three ineligible tiers go (excluded family last); eligible recipients stay.
    res = redistribute(ranking, pd.Series({"A": 1}), "families", recipients=recipients)
    assert res.removals["family_id"].tolist() == ["out-1", "fam-d9", "fam-d7", "fam-x2"]
    assert res.removals["tier"].tolist() == [1, 2, 2, 3]
    assert res.regions.loc["A", "final"] == 2 and res.regions.loc["A", "over_after"] == 1


def test_region_under_quota_removes_nobody():
    ranking = _ranking(OVER_REGION)
    recipients = pd.Series(["fam-d9", "fam-d7"])
    res = redistribute(ranking, pd.Series({"A": 4}), "families", recipients=recipients)
    assert res.removals.empty
    assert res.fills["family_id"].tolist() == ["fam-d1", "fam-d3"]  # x2 is excluded, d7/d9 above line


POOL = [
    ("fam-gc3", "B", 3, 2, None),
    ("fam-wl1", "B", 1, 2, None),
    ("fam-pl1", "B", 1, 2, None),
    ("fam-gc2", "B", 2, 2, None),
    ("fam-pl5", "B", 5, 2, None),
    ("fam-gc7", "B", 7, 2, None),  # ground-checked but above the line: never filled
    ("fam-gcx", "B", 1, 2, "refused_program"),  # ground-checked but excluded: never filled
]


@pytest.mark.parametrize("quota,expected", [
    (4, ["fam-gc2", "fam-gc3", "fam-wl1", "fam-pl1"]),
    (3, ["fam-gc2", "fam-gc3", "fam-wl1"]),
    (1, ["fam-gc2"]),
    (10, ["fam-gc2", "fam-gc3", "fam-wl1", "fam-pl1", "fam-pl5"]),
])
def test_fill_priority_ground_checked_then_waiting_list_then_poorest(quota, expected):
    ranking = _ranking(POOL)
    gc = pd.Series(True, index=["fam-gc3", "fam-gc2", "fam-gc7", "fam-gcx"])
    wl = pd.DataFrame({"family_id": ["fam-wl1", "fam-gc7", "nobody-1"], "region": ["B", "B", "B"]})
    res = redistribute(ranking, pd.Series({"B": quota}), "families", waiting_list=wl, ground_checked=gc)
    assert res.fills["family_id"].tolist() == expected
    assert res.fills["priority"].is_monotonic_increasing
    assert res.fills["reason"].tolist()[:2] == ["ground_checked", "ground_checked"][: len(expected)]
    assert res.regions.loc["B", "final"] == len(expected)
    assert res.regions.loc["B", "under_after"] == quota - len(expected)
    unused = dict(zip(res.waiting_list_unused["family_id"], res.waiting_list_unused["reason"], strict=True))
    assert unused == {"fam-gc7": "desil_above_line", "nobody-1": "not_in_ranking"}


def test_welfare_breaks_ties_within_a_desil():
    ranking = _ranking([("fam-a", "B", 2, 1, None), ("fam-b", "B", 2, 1, None), ("fam-c", "B", 2, 1, None)])
    ranking["welfare"] = [13.2, 12.9, 13.0]
    res = redistribute(ranking, pd.Series({"B": 2}), "families")
    assert res.fills["family_id"].tolist() == ["fam-b", "fam-c"]


def test_people_unit_never_splits_a_family():
    # Priority order sizes 4, 5, 3, 1 (desil 1..4), quota 10 people: 4 + 5 = 9; the next (3) would
    # make 12 > 10, so filling stops there, and the family of 1 behind it does not jump the queue.
    ranking = _ranking([("fam-a", "C", 1, 4, None), ("fam-b", "C", 2, 5, None),
                        ("fam-c", "C", 3, 3, None), ("fam-d", "C", 4, 1, None)])
    res = redistribute(ranking, pd.Series({"C": 10}), "people")
    assert res.fills["family_id"].tolist() == ["fam-a", "fam-b"]
    assert res.regions.loc["C", ["filled", "final", "under_after", "filled_families"]].tolist() == [9, 9, 1, 2]


def test_people_unit_removes_whole_families_until_at_or_below_quota_then_refills():
    # Recipients: eligible 6 people + outside 3 + desil 8 (4) + desil 6 (6) = 19 people; quota 10.
    # Over by 9: remove outside (3, still over by 6), desil 8 (4, still over by 2), desil 6 (6):
    # now 6 people, 4 under; refill from the pool: fam-p1 (3) fits, fam-p2 (2) would make 11.
    ranking = _ranking([("fam-e", "D", 2, 6, None), ("fam-r8", "D", 8, 4, None), ("fam-r6", "D", 6, 6, None),
                        ("fam-p1", "D", 1, 3, None), ("fam-p2", "D", 3, 2, None)])
    recipients = pd.DataFrame({"family_id": ["fam-e", "fam-r8", "fam-r6", "out-9"], "region": "D",
                               "people": [6, 4, 6, 3]})
    res = redistribute(ranking, pd.Series({"D": 10}), "people", recipients=recipients)
    assert res.removals["family_id"].tolist() == ["out-9", "fam-r8", "fam-r6"]
    assert res.fills["family_id"].tolist() == ["fam-p1"]
    row = res.regions.loc["D"]
    assert (row["current"], row["removed"], row["filled"], row["final"]) == (19, 13, 3, 9)
    # Quota 13: over by 6 -> outside (3) and desil 8 (4) go; desil 6 stays.
    res = redistribute(ranking, pd.Series({"D": 13}), "people", recipients=recipients)
    assert res.removals["family_id"].tolist() == ["out-9", "fam-r8"]


def test_recipients_outside_ranking_without_region_are_always_removed():
    ranking = _ranking([("fam-a", "A", 2, 1, None)])
    res = redistribute(ranking, pd.Series({"A": 5}), "families", recipients=pd.Series(["fam-a", "ghost-1"]))
    assert res.removals["family_id"].tolist() == ["ghost-1"]
    assert res.removals["region"].isna().all()
    assert res.regions.loc["A", "current"] == 1


def test_redistribute_refuses_bad_input():
    ranking = _ranking([("fam-a", "A", 2, 1, None), ("fam-b", "Z", 11, 1, None)])
    with pytest.raises(ValueError, match=r"desil.*'fam-b'.*11"):
        redistribute(ranking, pd.Series({"A": 1, "Z": 1}), "families")
    ranking = _ranking([("fam-a", "A", 2, 1, None), ("fam-b", "Z", 3, 1, None)])
    with pytest.raises(ValueError, match="no quota"):
        redistribute(ranking, pd.Series({"A": 1}), "families")
    with pytest.raises(ValueError, match="unit"):
        redistribute(ranking, pd.Series({"A": 1, "Z": 1}), "households")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no people count"):
        redistribute(ranking, pd.Series({"A": 1, "Z": 1}), "people",
                     recipients=pd.DataFrame({"family_id": ["out-1"], "region": ["A"]}))


# --------------------------------------------------------------------------------------------
# The seeds' worked example, scaled 1 : 100,000
# --------------------------------------------------------------------------------------------
def test_pbi_jk_worked_example_scaled_down():
    """PBI-JK: national quota 96.8 M people -> 968 people; recipients in desil 6-10 and outside DTSEN
    are removed where a region is over quota, and places are refilled from desil 1-5."""
    prog = programs_config().by_name()["PBI-JK"]
    assert (prog.quota, prog.quota_unit, prog.max_desil) == (96_800_000, "people", 5)
    national = prog.quota // 100_000
    rng = np.random.default_rng(11)
    regions = np.array(["31", "33", "35", "91"])
    n = 900
    ranking = pd.DataFrame({
        "family_id": [f"fam-{i:05d}" for i in range(n)],
        "region": rng.choice(regions, n, p=[0.2, 0.3, 0.35, 0.15]),
        "desil": rng.integers(1, 11, n),
        "people": rng.integers(1, 8, n),
        "welfare": rng.normal(13, 0.5, n),
    })
    ranking["exclusion_rule"] = pd.array(np.where(rng.random(n) < 0.05, "income_above_minimum_wage", None),
                                         dtype="string")
    poor = ranking[ranking["desil"] <= 2].groupby("region")["people"].sum()
    quota = allocate_quota(poor, national)
    assert int(quota.sum()) == national
    # Current recipients drawn at random whatever the desil (many in desil 6-10), more in the first
    # two regions (over quota) than in the last two (under quota), plus 40 families outside DTSEN.
    share = ranking["region"].map({"31": 0.6, "33": 0.1, "35": 0.4, "91": 0.05})
    chosen = ranking[rng.random(n) < share]
    outside = pd.DataFrame({"family_id": [f"out-{i:03d}" for i in range(40)],
                            "region": rng.choice(regions[[0, 2]], 40), "people": rng.integers(1, 8, 40)})
    recipients = pd.concat([chosen[["family_id", "region", "people"]], outside], ignore_index=True)
    ground_checked = pd.Series(rng.random(n) < 0.3, index=ranking["family_id"])
    res = redistribute(ranking, quota, prog.quota_unit, recipients=recipients, ground_checked=ground_checked,
                       max_desil=prog.max_desil)

    info = ranking.set_index("family_id")
    rec_people = recipients.set_index("family_id")["people"]
    current = recipients.groupby("region")["people"].sum().reindex(quota.index, fill_value=0)
    assert res.regions["current"].tolist() == current.tolist()
    over_regions = set(quota.index[current > quota])
    assert over_regions and set(quota.index) - over_regions  # the example has both kinds of region

    # Every removal is outside DTSEN, above desil 5, or excluded; only in regions over quota; tiers in order.
    rem = res.removals
    assert set(rem["region"]) <= over_regions
    for fid, reason in zip(rem["family_id"], rem["reason"], strict=True):
        if reason == "outside_ranking":
            assert fid not in info.index
        elif reason == "desil_above_line":
            assert info.loc[fid, "desil"] >= 6
        else:
            assert reason == "exclusion_rule" and pd.notna(info.loc[fid, "exclusion_rule"])
    for _, g in rem.groupby("region"):
        assert g["tier"].is_monotonic_increasing
        assert g.loc[g["tier"] == 2, "desil"].is_monotonic_decreasing  # richest first
    # Every fill is a desil 1-5 non-recipient without a rule, ground-checked ones first.
    fills = res.fills
    assert not fills["family_id"].isin(recipients["family_id"]).any()
    assert (info.loc[fills["family_id"], "desil"] <= 5).all()
    assert info.loc[fills["family_id"], "exclusion_rule"].isna().all()
    for _, g in fills.groupby("region"):
        assert g["priority"].is_monotonic_increasing
        assert (g["priority"] == 1).tolist() == ground_checked[g["family_id"]].tolist()

    # Books balance in people: final = current - removed + filled, recomputed from the lists.
    removed = rem["family_id"].map(rec_people).groupby(rem["region"]).sum().reindex(quota.index, fill_value=0)
    filled = fills.groupby("region")["people"].sum().reindex(quota.index, fill_value=0)
    final = current - removed + filled
    assert res.regions["final"].tolist() == final.tolist()
    # No region above quota unless its eligible recipients alone exceed it; none under by a family
    # or more while desil 1-5 candidates remain.
    eligible_rec = info.loc[chosen["family_id"]].query("desil <= 5 and exclusion_rule.isna()", engine="python")
    keep = eligible_rec.groupby("region")["people"].sum().reindex(quota.index, fill_value=0)
    assert ((final <= quota) | (final == keep)).all()
    pool_left = info[(info["desil"] <= 5) & info["exclusion_rule"].isna()
                     & ~info.index.isin(recipients["family_id"]) & ~info.index.isin(fills["family_id"])]
    for region in quota.index:
        gap = quota[region] - final[region]
        if gap > 0 and (pool_left["region"] == region).any():
            assert gap < 7  # less than the largest family: the next one in priority did not fit
    assert int(res.regions["final"].sum()) <= national
