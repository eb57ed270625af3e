"""The synthetic DTSEN population: families, members, truth and a SUSENAS-like survey sample.

Real DTSEN records are protected by law; this generator produces a population that behaves like
the real one (issue 2 §3): the 38 provinces and 514 regencies with BPS codes, province people
shares and person-weighted poverty rates of BPS March 2024 (exact calibration, data.synth_plan),
latent welfare driving housing, utilities, assets, members' schooling and work through noisy
relations (config/synth.yaml: all assumptions), admin signals that mostly agree with the survey,
under-reporting families, negative-list facts at low rates.

Determinism and streaming: families are generated in blocks of `config.block_families`; block b
uses numpy default_rng([seed, 0, b]) and the plan uses default_rng([seed, 1]), so the rows depend
only on (seed, config) - not on the write chunk size or on whether the population is kept in
memory (`generate_population`) or streamed to Parquet (`write_population`). The true desil needs
the whole population: only welfare (float64) and family size (int16) of every family are kept in
memory (10 bytes per family), and truth.parquet is finished after the last chunk.

Outputs (tables of features.schema, storage dtypes from FieldSpec.pandas_dtype()):
- families: FAMILY_FIELDS, sorted by family_id = "F" + 10-digit zero-padded generation index;
- members: MEMBER_FIELDS, sorted by (family_id, member_no); member 1 is the head;
- truth: TRUTH_DTYPES (evaluation only, never a model input);
- survey: SURVEY_FIELDS, about `survey.share` of families, stratified by province.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from config.synth import SynthConfig, synth_config
from data.fingerprint import dataset_fingerprint, file_fingerprint
from data.parquet_io import ChunkedParquetWriter, iter_row_groups
from data.synth_admin import admin, rules
from data.synth_context import BlockContext
from data.synth_draws import choice
from data.synth_housing import assets, housing, reported_power
from data.synth_members import members
from data.synth_nonadditive import FARM_STREAM, family_loading_scale, farm_assets
from data.synth_plan import PopulationPlan, build_plan
from features.regions import REFERENCE_DIR
from features.schema import FAMILY_FIELDS, MEMBER_FIELDS, SURVEY_FIELDS, FieldSpec, empty_frame
from features.welfare import welfare_from_log_pcexp
from models.cut_points import assign_desil, weighted_cut_points

GENERATOR = "data.synth v2"  # v2: non-additive relations (config heterogeneity, saturation, farm)
FAMILY_ID_DIGITS = 10
TABLE_FILES = ("families", "members", "truth", "survey")

# truth.parquet: column -> storage dtype (true_desil is added once the whole population is known)
TRUTH_DTYPES: dict[str, str] = {
    "family_id": "string",
    "n_members": "Int16",
    "true_log_pcexp": "float64",  # nominal log monthly per-capita expenditure, log(Rp)
    "true_welfare": "float64",  # features.welfare.welfare_from_log_pcexp(true_log_pcexp, province)
    "true_desil": "Int16",  # national people-weighted decile of true_welfare (1 poorest .. 10)
    "poor": "boolean",  # true_welfare < 0 (below the provincial poverty line)
    "true_floor_material": "Int16",
    "true_wall_material": "Int16",
    "true_roof_material": "Int16",
    "habitable": "boolean",  # layak huni from TRUE housing (config housing.habitable_*)
    "misreported_assets": "boolean",  # the family hides assets in its answers
    "misreported_housing": "boolean",  # the family reports worse materials than true
    "true_pln_installed_power": "Int16",  # null unless metered PLN lighting
    "true_motorcycles": "Int32",
    "true_cars": "Int32",
}

REFERENCE_SOURCES = {
    "provinces": "features/reference/bps_provinces.csv: BPS poverty March 2024 (rate, poor, poverty line), "
    "survey population = poor / rate, urban share 2025 projection",
    "regencies": "features/reference/regencies_2025.csv: Kepmendagri 300.2.2-2430/2025",
    "family_size": "DTSEN 3 Feb 2025: 285,579,122 people in 93,025,360 families (mean 3.07)",
}


@dataclass(frozen=True)
class Population:
    """An in-memory synthetic population (the four tables, same content as write_population's files)."""

    families: pd.DataFrame
    members: pd.DataFrame
    truth: pd.DataFrame
    survey: pd.DataFrame


@dataclass
class _Block:
    families: pd.DataFrame
    members: pd.DataFrame
    truth: pd.DataFrame  # without true_desil
    welfare: np.ndarray
    size: np.ndarray
    province: np.ndarray
    survey_u: np.ndarray
    survey_log_pcexp: np.ndarray
    first_index: int


def family_ids(first: int, n: int) -> np.ndarray:
    """Family ids "F" + 10-digit zero-padded index for indices first .. first + n - 1 (object array)."""
    return _ids_of(np.arange(first, first + n))


def _ids_of(index: np.ndarray) -> np.ndarray:
    idx = np.asarray(index, dtype=np.int64).astype(f"<U{FAMILY_ID_DIGITS}")
    return np.strings.add("F", np.strings.zfill(idx, FAMILY_ID_DIGITS)).astype(object)


def _column(values: np.ndarray, dtype: str) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """Generator array -> storage array: ints/categories use -1 for null, floats NaN, bools int8 -1."""
    if dtype in ("Int8", "Int16", "Int32"):
        arr = np.asarray(values)
        return pd.arrays.IntegerArray(arr.astype(dtype.lower()), mask=arr < 0)
    if dtype == "boolean":
        arr = np.asarray(values)
        if arr.dtype == bool:
            return pd.arrays.BooleanArray(arr, mask=np.zeros(arr.shape[0], dtype=bool))
        return pd.arrays.BooleanArray(arr == 1, mask=arr < 0)
    if dtype == "float64":
        return np.asarray(values, dtype=np.float64)
    return pd.array(values, dtype=dtype)


def _frame(columns: dict[str, np.ndarray], fields: tuple[FieldSpec, ...] | dict[str, str]) -> pd.DataFrame:
    dtypes = {f.name: f.pandas_dtype() for f in fields} if isinstance(fields, tuple) else fields
    missing = [name for name in dtypes if name not in columns]
    if missing:
        raise KeyError(f"generator produced no column(s) {missing}")
    return pd.DataFrame({name: _column(columns[name], dtype) for name, dtype in dtypes.items()})


def _generate_block(plan: PopulationPlan, config: SynthConfig, seed: int, block: int, n: int) -> _Block:
    """Draw families first..first+n-1 of block `block` (n <= block_families)."""
    rng = np.random.default_rng([seed, 0, block])
    first = block * config.block_families
    w = config.welfare

    province = np.minimum(np.searchsorted(np.cumsum(plan.family_prob), rng.random(n), side="right"), len(plan.mu) - 1)
    regency = plan.regency_start[province] + np.floor(rng.random(n) * plan.regency_count[province]).astype(np.int64)
    urban = rng.random(n) < plan.urban_share[province]
    size = choice(rng, n, plan.size_values, plan.size_pmf)
    z = (
        plan.mu[province] + w.urban_shift * urban + plan.regency_effect[regency]
        - w.size_elasticity * np.log(size / 3.0) + w.sigma * rng.standard_normal(n)
    )
    province_code = plan.province_codes[province]
    ctx = BlockContext(
        first_index=first,
        z=z,
        z_std=(z - plan.z_mean) / plan.z_sd,
        urban=urban,
        size=size,
        province=province,
        regency=regency,
        province_code=province_code,
        region=plan.region_effect[regency],
        loading_scale=family_loading_scale(plan.loading_multiplier, province, urban, config),
    )

    house = housing(rng, ctx, config)
    owned = assets(rng, ctx, config)
    people, family_agg = members(rng, ctx, config)
    if config.farm.enabled:
        farm_rng = np.random.default_rng([seed, FARM_STREAM, block])
        owned.update(farm_assets(farm_rng, ctx, config, family_agg["any_agri"]))
    signals = admin(
        rng, ctx, config, house["true_pln_installed_power"], owned["true_motorcycles"], owned["true_cars"], family_agg
    )
    facts = rules(rng, ctx, config)
    power = reported_power(rng, house["true_pln_installed_power"], owned["misreported_assets"], config)
    survey_u = rng.random(n)
    true_log_pcexp = z + plan.log_poverty_line[province]
    survey_log_pcexp = true_log_pcexp + config.survey.noise_sd * rng.standard_normal(n)

    ids = family_ids(first, n)
    fam_cols: dict[str, np.ndarray] = {
        "family_id": ids,
        "province_code": province_code,
        "regency_code": plan.regency_codes[regency],
        "urban": urban,
        "pln_installed_power": power,
        **house,
        **owned,
        **signals,
        **facts,
    }
    welfare = welfare_from_log_pcexp(true_log_pcexp, province_code)
    truth_cols = {
        "family_id": ids,
        "n_members": size,
        "true_log_pcexp": true_log_pcexp,
        "true_welfare": welfare,
        "poor": welfare < 0,
        **{k: v for k, v in {**house, **owned}.items() if k in TRUTH_DTYPES},
    }
    people["family_id"] = ids[people["fam"]]
    truth_dtypes = {k: v for k, v in TRUTH_DTYPES.items() if k != "true_desil"}
    return _Block(
        families=_frame(fam_cols, FAMILY_FIELDS),
        members=_frame(people, MEMBER_FIELDS),
        truth=_frame(truth_cols, truth_dtypes),
        welfare=welfare,
        size=size.astype(np.int16),
        province=province.astype(np.int16),
        survey_u=survey_u,
        survey_log_pcexp=survey_log_pcexp,
        first_index=first,
    )


@dataclass
class _SurveyCollector:
    """Stratified Bernoulli sample by province, collected block by block.

    A family is selected when its uniform draw is below its province's inclusion probability; a
    province with families but no selected family gets its lowest-draw family (so every province is
    represented). Weight = families in the province / selected families in the province, so the
    weights sum to the number of families exactly.
    """

    plan: PopulationPlan
    index: list[np.ndarray] = field(default_factory=list)
    log_pcexp: list[np.ndarray] = field(default_factory=list)
    province: list[np.ndarray] = field(default_factory=list)
    families_per_province: np.ndarray | None = None
    best_u: np.ndarray | None = None
    best_index: np.ndarray | None = None
    best_log_pcexp: np.ndarray | None = None

    def __post_init__(self) -> None:
        k = len(self.plan.mu)
        self.families_per_province = np.zeros(k, dtype=np.int64)
        self.best_u = np.full(k, np.inf)
        self.best_index = np.full(k, -1, dtype=np.int64)
        self.best_log_pcexp = np.zeros(k)

    def add(self, block: _Block) -> None:
        prov = block.province.astype(np.int64)
        k = len(self.plan.mu)
        self.families_per_province += np.bincount(prov, minlength=k)
        selected = block.survey_u < self.plan.survey_prob[prov]
        idx = np.flatnonzero(selected)
        self.index.append(block.first_index + idx)
        self.log_pcexp.append(block.survey_log_pcexp[idx])
        self.province.append(prov[idx])
        # lowest draw per province in this block (ties broken by the earlier family)
        order = np.lexsort((np.arange(prov.size), block.survey_u, prov))
        first_of = order[np.r_[True, prov[order][1:] != prov[order][:-1]]]
        for i in first_of:
            p = prov[i]
            if block.survey_u[i] < self.best_u[p]:
                self.best_u[p] = block.survey_u[i]
                self.best_index[p] = block.first_index + i
                self.best_log_pcexp[p] = block.survey_log_pcexp[i]

    def frame(self) -> pd.DataFrame:
        index = np.concatenate(self.index) if self.index else np.zeros(0, dtype=np.int64)
        log_pcexp = np.concatenate(self.log_pcexp) if self.log_pcexp else np.zeros(0)
        prov = np.concatenate(self.province) if self.province else np.zeros(0, dtype=np.int64)
        k = len(self.plan.mu)
        sampled = np.bincount(prov, minlength=k)
        empty = np.flatnonzero((sampled == 0) & (self.families_per_province > 0))
        if empty.size:
            index = np.concatenate([index, self.best_index[empty]])
            log_pcexp = np.concatenate([log_pcexp, self.best_log_pcexp[empty]])
            prov = np.concatenate([prov, empty])
            sampled = np.bincount(prov, minlength=k)
        order = np.argsort(index, kind="stable")
        index, log_pcexp, prov = index[order], log_pcexp[order], prov[order]
        weight = self.families_per_province[prov] / np.maximum(sampled[prov], 1)
        ids = _ids_of(index)
        return _frame(
            {"family_id": ids, "log_pcexp": log_pcexp, "survey_weight": weight.astype(np.float64)}, SURVEY_FIELDS
        )


def _add_desil(truth: pd.DataFrame, cuts: np.ndarray) -> pd.DataFrame:
    desil = assign_desil(truth["true_welfare"].to_numpy(dtype=np.float64), cuts)
    out = truth.copy()
    out.insert(list(TRUTH_DTYPES).index("true_desil"), "true_desil", _column(desil.astype(np.int16), "Int16"))
    return out


def _blocks(
    n_families: int, seed: int, config: SynthConfig, plan: PopulationPlan, blocks_per_chunk: int
) -> Iterator[list[_Block]]:
    """Yield chunks (lists of consecutive blocks) covering families 0 .. n_families - 1."""
    n_blocks = math.ceil(n_families / config.block_families)
    for start in range(0, n_blocks, blocks_per_chunk):
        chunk = []
        for b in range(start, min(start + blocks_per_chunk, n_blocks)):
            n = min(config.block_families, n_families - b * config.block_families)
            chunk.append(_generate_block(plan, config, seed, b, n))
        yield chunk


def _check_args(n_families: int, seed: int) -> None:
    if not isinstance(n_families, int | np.integer) or n_families < 1:
        raise ValueError(f"n_families must be a positive integer, got {n_families!r}")
    if n_families >= 10**FAMILY_ID_DIGITS:
        raise ValueError(f"n_families must be below 10^{FAMILY_ID_DIGITS} (family id width), got {n_families}")
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def generate_population(n_families: int, seed: int, config: SynthConfig | None = None) -> Population:
    """An in-memory population of n_families families (for tests and small studies).

    Same rows as `write_population(n_families, seed, ...)` with the same config.
    """
    _check_args(n_families, seed)
    config = config or synth_config()
    plan = build_plan(seed, config)
    fams, mems, truths, welfare, size = [], [], [], [], []
    survey = _SurveyCollector(plan)
    for chunk in _blocks(n_families, seed, config, plan, blocks_per_chunk=1):
        for block in chunk:
            fams.append(block.families)
            mems.append(block.members)
            truths.append(block.truth)
            welfare.append(block.welfare)
            size.append(block.size)
            survey.add(block)
    cuts = weighted_cut_points(np.concatenate(welfare), np.concatenate(size))
    truth = _add_desil(pd.concat(truths, ignore_index=True), cuts)
    return Population(
        families=pd.concat(fams, ignore_index=True),
        members=pd.concat(mems, ignore_index=True),
        truth=truth,
        survey=survey.frame(),
    )


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("families"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )


def write_population(
    n_families: int,
    seed: int,
    out_dir: Path | str,
    config: SynthConfig | None = None,
    chunk_size: int | None = None,
    progress: bool = True,
) -> dict:
    """Stream a population to out_dir: families/members/truth/survey .parquet and manifest.json.

    chunk_size: families per written row group (rounded up to whole generation blocks; default
    config.chunk_families); it changes neither rows nor values. Memory: one chunk of frames plus
    10 bytes per family. Returns the manifest (seed, sizes, config, reference sources, fingerprints).
    """
    _check_args(n_families, seed)
    config = config or synth_config()
    chunk = chunk_size or config.chunk_families
    if chunk < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk}")
    blocks_per_chunk = max(1, math.ceil(chunk / config.block_families))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.parquet" for name in TABLE_FILES}
    partial = out / "truth.partial.parquet"

    plan = build_plan(seed, config)
    welfare = np.empty(n_families, dtype=np.float64)
    size = np.empty(n_families, dtype=np.int16)
    survey = _SurveyCollector(plan)
    n_people = 0
    with _progress(progress) as bar:
        task = bar.add_task("synthetic population", total=n_families)
        with (
            ChunkedParquetWriter(paths["families"], empty_frame("families")) as fam_w,
            ChunkedParquetWriter(paths["members"], empty_frame("members")) as mem_w,
            ChunkedParquetWriter(partial) as truth_w,
        ):
            for blocks in _blocks(n_families, seed, config, plan, blocks_per_chunk):
                fam_w.write(pd.concat([b.families for b in blocks], ignore_index=True))
                mem_w.write(pd.concat([b.members for b in blocks], ignore_index=True))
                truth_w.write(pd.concat([b.truth for b in blocks], ignore_index=True))
                for b in blocks:
                    lo = b.first_index
                    welfare[lo : lo + b.welfare.size] = b.welfare
                    size[lo : lo + b.size.size] = b.size
                    n_people += int(b.size.sum(dtype=np.int64))
                    survey.add(b)
                    bar.advance(task, b.welfare.size)
        finish = bar.add_task("true desil", total=n_families)
        cuts = weighted_cut_points(welfare, size)
        with ChunkedParquetWriter(paths["truth"]) as truth_final:
            for part in iter_row_groups(partial):
                truth_final.write(_add_desil(part, cuts))
                bar.advance(finish, len(part))
    partial.unlink()
    survey_frame = survey.frame()
    with ChunkedParquetWriter(paths["survey"], empty_frame("survey")) as survey_w:
        survey_w.write(survey_frame)

    manifest = {
        "generator": GENERATOR,
        "seed": int(seed),
        "n_families": int(n_families),
        "n_people": int(n_people),
        "n_survey": len(survey_frame),
        "chunk_families": blocks_per_chunk * config.block_families,
        "true_desil_cut_points": [float(c) for c in cuts],
        "calibrated_mu": {str(c): float(m) for c, m in zip(plan.province_codes, plan.mu, strict=True)},
        "reference_sources": REFERENCE_SOURCES,
        "reference_files": {
            name: file_fingerprint(REFERENCE_DIR / name) for name in ("bps_provinces.csv", "regencies_2025.csv")
        },
        "files": {name: path.name for name, path in paths.items()},
        "fingerprint": dataset_fingerprint({k: str(v) for k, v in paths.items()}),
        "config": config.model_dump(),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


__all__ = ["TRUTH_DTYPES", "Population", "family_ids", "generate_population", "write_population"]
