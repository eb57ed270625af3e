"""Summary tables of a national ranking, accumulated chunk by chunk (bounded memory), and the
desil-by-province plot (matplotlib Figure API, Agg rendering, no pyplot state).

Tables (all counts int64):
- desil_by_province: one row per (province_code, desil 1..10): families, people;
- programs_by_province: one row per (province_code, program): eligible_families, eligible_people,
  excluded_families (in the program's deciles but excluded by a rule), excluded_people;
- exclusions_by_province: one row per (province_code, exclusion_rule): families, people.
Every province of the ranking appears with all 10 deciles and every program (zeros included).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from models.programs import eligible_column, programs

N_DESIL = 10


class RankingSummary:
    """Adds up summary counts over ranking chunks (finish_ranking frames)."""

    def __init__(self) -> None:
        self._desil: list[pd.DataFrame] = []
        self._programs: list[pd.DataFrame] = []
        self._exclusions: list[pd.DataFrame] = []

    def add(self, ranking: pd.DataFrame) -> None:
        """Add one chunk of ranking rows (province_code, desil, people, exclusion_rule, eligible_*)."""
        if ranking.empty:
            return
        r = ranking.assign(families=1)
        self._desil.append(r.groupby(["province_code", "desil"], observed=True)[["families", "people"]].sum())
        rows = []
        for prog in programs():
            in_deciles = r["desil"] <= prog.max_desil
            eligible = r[eligible_column(prog.name)].astype(bool)
            excluded = in_deciles & ~eligible
            g = pd.DataFrame({
                "province_code": r["province_code"], "program": prog.name,
                "eligible_families": eligible.astype(np.int64),
                "eligible_people": np.where(eligible, r["people"], 0).astype(np.int64),
                "excluded_families": excluded.astype(np.int64),
                "excluded_people": np.where(excluded, r["people"], 0).astype(np.int64),
            }).groupby(["province_code", "program"]).sum()
            rows.append(g)
        self._programs.append(pd.concat(rows))
        ex = r[r["exclusion_rule"].notna()]
        if len(ex):
            self._exclusions.append(ex.groupby(["province_code", "exclusion_rule"])[["families", "people"]].sum())
        # Keep the partial sums small: collapse every 64 chunks.
        if len(self._desil) >= 64:
            self._collapse()

    def _collapse(self) -> None:
        self._desil = [pd.concat(self._desil).groupby(level=[0, 1]).sum()]
        self._programs = [pd.concat(self._programs).groupby(level=[0, 1]).sum()]
        if self._exclusions:
            self._exclusions = [pd.concat(self._exclusions).groupby(level=[0, 1]).sum()]

    def tables(self) -> dict[str, pd.DataFrame]:
        """{'desil_by_province', 'programs_by_province', 'exclusions_by_province'} (module docstring)."""
        provinces_seen = sorted(set().union(*(set(d.index.get_level_values(0)) for d in self._desil))) \
            if self._desil else []
        full = pd.MultiIndex.from_product([provinces_seen, range(1, N_DESIL + 1)], names=["province_code", "desil"])
        desil = (pd.concat(self._desil).groupby(level=[0, 1]).sum() if self._desil
                 else pd.DataFrame(columns=["families", "people"]))
        desil.index = desil.index.set_names(["province_code", "desil"]) if len(desil) else desil.index
        desil = desil.reindex(full, fill_value=0).astype(np.int64).reset_index()
        names = [p.name for p in programs()]
        pfull = pd.MultiIndex.from_product([provinces_seen, names], names=["province_code", "program"])
        cols = ["eligible_families", "eligible_people", "excluded_families", "excluded_people"]
        prog = (pd.concat(self._programs).groupby(level=[0, 1]).sum() if self._programs
                else pd.DataFrame(columns=cols))
        prog = prog.reindex(pfull, fill_value=0).astype(np.int64).reset_index()
        if self._exclusions:
            ex = pd.concat(self._exclusions).groupby(level=[0, 1]).sum().astype(np.int64).reset_index()
        else:
            ex = pd.DataFrame({"province_code": pd.Series(dtype="string"), "exclusion_rule": pd.Series(dtype="string"),
                               "families": pd.Series(dtype=np.int64), "people": pd.Series(dtype=np.int64)})
        for t in (desil, prog, ex):
            t["province_code"] = t["province_code"].astype("string")
        return {"desil_by_province": desil, "programs_by_province": prog, "exclusions_by_province": ex}


def desil_by_province_plot(desil_by_province: pd.DataFrame, province_names: pd.Series | None = None) -> Figure:
    """Stacked bars: share of each province's people in desil 1..10 (national deciles: 10 % each)."""
    wide = desil_by_province.pivot(index="province_code", columns="desil", values="people").fillna(0)
    share = wide.div(wide.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    labels = [f"{c} {province_names.get(c, '')}".strip() if province_names is not None else str(c)
              for c in share.index]
    # Object-oriented Figure (no pyplot): no GUI backend, no global state; renders with Agg.
    fig = Figure(figsize=(9, max(4.0, 0.24 * len(share) + 1.5)))
    ax = fig.add_subplot()
    left = np.zeros(len(share))
    colours = colormaps["RdYlGn"](np.linspace(0.05, 0.95, N_DESIL))
    for d in range(1, N_DESIL + 1):
        values = share[d].to_numpy() if d in share.columns else np.zeros(len(share))
        ax.barh(labels, values, left=left, color=colours[d - 1], label=f"desil {d}", height=0.8)
        left += values
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the province's people")
    ax.set_title("People by national desil, per province", pad=22)
    ax.legend(ncol=10, fontsize=6, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False,
              handlelength=1.0, columnspacing=0.8)
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    return fig
