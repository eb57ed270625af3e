"""Settings of the synthetic population generator (`config/synth.yaml`), validated by pydantic.

Every value is a modelling assumption (see the YAML header), not a published figure. Probability
vectors are checked to be non-negative and to sum to 1 (within 1e-6), ordered-category specs to have
one share per code, loadings to lie in [-1, 1].
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator, model_validator

from config import StrictModel, load_yaml


def _check_pmf(values: list[float], what: str) -> list[float]:
    if any(v < 0 for v in values):
        raise ValueError(f"{what}: probabilities must be >= 0, got {values}")
    if abs(sum(values) - 1.0) > 1e-6:
        raise ValueError(f"{what}: probabilities must sum to 1, got {sum(values):.6f}")
    return values


class OrderedSpec(StrictModel):
    """An ordered category driven by welfare: codes best (richest) first, urban/rural marginal shares."""

    codes: list[int]
    urban: list[float]
    rural: list[float]
    loading: float = Field(ge=-1, le=1)

    @model_validator(mode="after")
    def _lengths(self) -> OrderedSpec:
        for name in ("urban", "rural"):
            values = getattr(self, name)
            if len(values) != len(self.codes):
                raise ValueError(f"{name} has {len(values)} shares for {len(self.codes)} codes")
            _check_pmf(values, name)
        return self


class CategoricalSpec(StrictModel):
    """A category not driven by welfare: codes with urban/rural shares."""

    codes: list[int]
    urban: list[float]
    rural: list[float]

    @model_validator(mode="after")
    def _lengths(self) -> CategoricalSpec:
        for name in ("urban", "rural"):
            values = getattr(self, name)
            if len(values) != len(self.codes):
                raise ValueError(f"{name} has {len(values)} shares for {len(self.codes)} codes")
            _check_pmf(values, name)
        return self


class BinarySpec(StrictModel):
    """A yes/no fact: share among urban and rural families, welfare loading."""

    urban: float = Field(ge=0, le=1)
    rural: float = Field(ge=0, le=1)
    loading: float = Field(ge=-1, le=1)


class LivestockSpec(BinarySpec):
    mean_count: float = Field(ge=1)


class VehicleSpec(StrictModel):
    extra_mean: float = Field(gt=0)
    welfare_loading: float


class FloorAreaSpec(StrictModel):
    base_urban_m2: float = Field(gt=0)
    base_rural_m2: float = Field(gt=0)
    size_elasticity: float
    welfare_loading: float
    sd: float = Field(ge=0)


class WelfareConfig(StrictModel):
    sigma: float = Field(gt=0)
    urban_shift: float
    regency_sd: float = Field(ge=0)
    size_elasticity: float
    region_effect_sd: float = Field(ge=0)


class SurveyConfig(StrictModel):
    share: float = Field(gt=0, le=1)
    allocation_power: float = Field(gt=0, le=1)
    noise_sd: float = Field(ge=0)


class HousingConfig(StrictModel):
    tenure: CategoricalSpec
    land_if_own: list[float]
    land_if_not_own: list[float]
    floor_area: FloorAreaSpec
    floor: OrderedSpec
    wall: OrderedSpec
    roof: OrderedSpec
    water: OrderedSpec
    lighting: OrderedSpec
    power: OrderedSpec
    cooking: OrderedSpec
    toilet: OrderedSpec
    toilet_type: OrderedSpec
    sewage: OrderedSpec
    habitable_min_m2_per_person: float = Field(gt=0)
    unhabitable_floor: list[int]
    unhabitable_wall: list[int]
    unhabitable_roof: list[int]

    @field_validator("land_if_own", "land_if_not_own")
    @classmethod
    def _pmf(cls, v: list[float]) -> list[float]:
        return _check_pmf(v, "land status")


class AssetsConfig(StrictModel):
    binary: dict[str, BinarySpec]
    motorcycles: VehicleSpec
    cars: VehicleSpec
    livestock: dict[str, LivestockSpec]
    pig_provinces: list[str]
    pig_share_elsewhere: float = Field(ge=0, le=1)


class MisreportConfig(StrictModel):
    assets_rate: float = Field(ge=0, le=0.5)
    welfare_tilt: float
    hidden_assets: list[str]
    hide_prob: float = Field(ge=0, le=1)
    power_down_prob: float = Field(ge=0, le=1)
    housing_rate: float = Field(ge=0, le=1)


class WorkProbs(StrictModel):
    male_prime: float = Field(ge=0, le=1)
    female_prime: float = Field(ge=0, le=1)
    young: float = Field(ge=0, le=1)
    old: float = Field(ge=0, le=1)
    student: float = Field(ge=0, le=1)


class AgricultureSpec(StrictModel):
    urban: float = Field(ge=0, le=1)
    rural: float = Field(ge=0, le=1)
    loading: float = Field(ge=-1, le=1)


class MembersConfig(StrictModel):
    head_male_if_spouse: float = Field(ge=0, le=1)
    head_male_if_single: float = Field(ge=0, le=1)
    head_age_mean: float
    head_age_sd: float = Field(gt=0)
    spouse_prob_size2: float = Field(ge=0, le=1)
    spouse_prob_larger: float = Field(ge=0, le=1)
    spouse_age_gap_mean: float
    spouse_age_gap_sd: float = Field(ge=0)
    other_codes: list[int]
    other_pmf: list[float]
    in_school_prob: list[float] = Field(min_length=4, max_length=4)
    in_school_loading: float
    never_school_prob: float = Field(ge=0, le=1)
    never_school_old_extra: float = Field(ge=0, le=1)
    certificate: OrderedSpec
    certificate_cohort_slope: float
    dropout_prob: float = Field(ge=0, le=1)
    work_prob: WorkProbs
    agriculture: AgricultureSpec
    nonagri_industry_codes: list[int]
    nonagri_industry_pmf: list[float]
    agri_status_pmf: list[float] = Field(min_length=7, max_length=7)
    employee_prob: float = Field(ge=0, le=1)
    employee_loading: float
    employee_education_loading: float
    nonagri_other_codes: list[int]
    nonagri_other_pmf: list[float]
    formal_prob: float = Field(ge=0, le=1)
    formal_loading: float
    business_prob_self: float = Field(ge=0, le=1)
    business_prob_other: float = Field(ge=0, le=1)
    disability_prob: float = Field(ge=0, le=1)
    disability_prob_old: float = Field(ge=0, le=1)
    chronic_prob: float = Field(ge=0, le=1)
    chronic_prob_old: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _pmfs(self) -> MembersConfig:
        _check_pmf(self.other_pmf, "other_pmf")
        _check_pmf(self.nonagri_industry_pmf, "nonagri_industry_pmf")
        _check_pmf(self.agri_status_pmf, "agri_status_pmf")
        _check_pmf(self.nonagri_other_pmf, "nonagri_other_pmf")
        if len(self.other_codes) != len(self.other_pmf):
            raise ValueError("other_codes and other_pmf differ in length")
        if len(self.nonagri_industry_codes) != len(self.nonagri_industry_pmf):
            raise ValueError("nonagri_industry_codes and nonagri_industry_pmf differ in length")
        if len(self.nonagri_other_codes) != len(self.nonagri_other_pmf):
            raise ValueError("nonagri_other_codes and nonagri_other_pmf differ in length")
        return self


class NegativeListConfig(StrictModel):
    civil_servant_public_admin: float = Field(ge=0, le=1)
    civil_servant_education: float = Field(ge=0, le=1)
    certified_teacher: float = Field(ge=0, le=1)
    health_worker: float = Field(ge=0, le=1)
    soe_employee: float = Field(ge=0, le=1)
    above_minimum_wage: float = Field(ge=0, le=1)
    company_owner: float = Field(ge=0, le=1)
    pensioner: float = Field(ge=0, le=0.5)
    village_official: float = Field(ge=0, le=1)
    social_staff: float = Field(ge=0, le=1)
    state_budget_income: float = Field(ge=0, le=1)
    state_official: float = Field(ge=0, le=1)
    gambling: float = Field(ge=0, le=1)


class RulesConfig(StrictModel):
    ground_check_pmf: list[float] = Field(min_length=4, max_length=4)
    refused_rate: float = Field(ge=0, le=0.5)

    @field_validator("ground_check_pmf")
    @classmethod
    def _pmf(cls, v: list[float]) -> list[float]:
        return _check_pmf(v, "ground_check_pmf")


class AdminConfig(StrictModel):
    pln_match: float = Field(ge=0, le=1)
    pln_subsidy_threshold: float
    pln_subsidy_spread: float = Field(gt=0)
    pln_r3_share: float = Field(ge=0, le=1)
    pln_kwh_median: list[float] = Field(min_length=5, max_length=5)
    kwh_welfare_loading: float
    kwh_sd: float = Field(ge=0)
    bpjs_kes_match: float = Field(ge=0, le=1)
    pbi_apbn_max: float = Field(ge=0, le=1)
    pbi_threshold: float
    pbi_spread: float = Field(gt=0)
    pbi_apbd_share: float = Field(ge=0, le=1)
    not_enrolled_prob: float = Field(ge=0, le=1)
    pbpu_class1_z: float
    pbpu_class2_z: float
    arrears_prob: float = Field(ge=0, le=0.5)
    arrears_mean_months: float = Field(ge=1)
    bpjs_tk_match: float = Field(ge=0, le=1)
    bpjs_tk_formal_active: float = Field(ge=0, le=1)
    bpjs_tk_other_active: float = Field(ge=0, le=1)
    wage_median_rp: float = Field(gt=0)
    wage_welfare_loading: float
    wage_sd: float = Field(ge=0)
    samsat_match: float = Field(ge=0, le=1)
    samsat_motorcycle_lapsed: float = Field(ge=0, le=1)
    samsat_motorcycle_extra: float = Field(ge=0)
    samsat_car_lapsed: float = Field(ge=0, le=1)
    samsat_car_extra: float = Field(ge=0)


class UrbanRural(StrictModel):
    urban: float = Field(ge=0, le=1)
    rural: float = Field(ge=0, le=1)


class HeterogeneityConfig(StrictModel):
    """Heterogeneous returns: the welfare loading of housing, services and asset latents is multiplied
    by an urban/rural factor, a province-group factor and a per-province lognormal factor."""

    enabled: bool
    urban_multiplier: float = Field(gt=0)
    rural_multiplier: float = Field(gt=0)
    java_provinces: list[str]
    java_multiplier: float = Field(gt=0)
    east_provinces: list[str]
    east_multiplier: float = Field(gt=0)
    province_log_sd: float = Field(ge=0)
    max_abs_loading: float = Field(gt=0, lt=1)


class SaturationConfig(StrictModel):
    """Saturating welfare effect on floor area and PLN kWh: slope 1 below knee_z, slope_above above it."""

    enabled: bool
    knee_z: float
    floor_area_slope_above: float = Field(ge=0, le=1)
    kwh_slope_above: float = Field(ge=0, le=1)


class FarmConfig(StrictModel):
    """Farm households (a member works in agriculture): land and livestock driven jointly by a
    farm-wealth latent; in other households they carry little welfare signal."""

    enabled: bool
    loading: float = Field(ge=-1, le=1)
    land_share: UrbanRural
    nonfarm_land_share: UrbanRural
    nonfarm_land_loading: float = Field(ge=-1, le=1)
    livestock_link: float = Field(ge=-1, le=1)
    keeper_scale_farm: float = Field(ge=0)
    keeper_scale_nonfarm: float = Field(ge=0)
    count_loading: float


class TolerancesConfig(StrictModel):
    national_poverty_pp: float = Field(gt=0)
    province_poverty_pp: float = Field(gt=0)
    province_people_share_rel: float = Field(gt=0)
    min_province_share: float = Field(ge=0, le=1)
    java_poor_share_pp: float = Field(gt=0)
    mean_family_size: float = Field(gt=0)
    reference_mean_family_size: float = Field(gt=0)


class SynthConfig(StrictModel):
    """All assumptions of `data.synth` (see config/synth.yaml for the meaning of each)."""

    block_families: int = Field(gt=0, le=10_000_000)
    chunk_families: int = Field(gt=0)
    family_size_pmf: list[float] = Field(min_length=1, max_length=30)
    welfare: WelfareConfig
    survey: SurveyConfig
    housing: HousingConfig
    assets: AssetsConfig
    misreport: MisreportConfig
    members: MembersConfig
    negative_list: NegativeListConfig
    rules: RulesConfig
    admin: AdminConfig
    heterogeneity: HeterogeneityConfig
    saturation: SaturationConfig
    farm: FarmConfig
    tolerances: TolerancesConfig

    @field_validator("family_size_pmf")
    @classmethod
    def _size_pmf(cls, v: list[float]) -> list[float]:
        return _check_pmf(v, "family_size_pmf")

    def mean_family_size(self) -> float:
        return float(sum((k + 1) * p for k, p in enumerate(self.family_size_pmf)))


@lru_cache(maxsize=1)
def synth_config() -> SynthConfig:
    """The generator settings from `config/synth.yaml` (or env DESIL_CONFIG_SYNTH)."""
    return SynthConfig(**load_yaml("synth"))
