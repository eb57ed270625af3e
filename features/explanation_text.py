"""Plain-English words for the raw variables of `features.build.FEATURE_GROUPS`, for explanations
("why desil 6?") shown to families, field workers and reviewers.

`describe_value(variable, family, features)` gives the value as the family reported it (category
labels from `features.schema`: English gloss with the Indonesian label), and
`contribution_text(variable, value, contribution)` the sentence, e.g.
"owns a car: +0.21 log expenditure".
"""

from __future__ import annotations

import math

import pandas as pd

from features.regions import provinces, regencies
from features.schema import IMMOVABLE_ASSETS, LIVESTOCK, MOVABLE_ASSETS, field_map

_ASSET_WORDS: dict[str, str] = {col: en for col, _, en in MOVABLE_ASSETS + IMMOVABLE_ASSETS}
_LIVESTOCK_WORDS: dict[str, str] = {col: en for col, _, en in LIVESTOCK}

VARIABLE_LABELS: dict[str, str] = {
    "members.family_size": "number of family members",
    "members.age": "ages of the members (children, elderly, head's age)",
    "members.sex": "sex of the head and members",
    "members.marital_status": "head's marital status",
    "members.highest_certificate": "education (highest certificate held)",
    "members.school_participation": "school attendance of the children",
    "members.works": "members who work",
    "members.employment_status": "employment status (formal or informal work)",
    "members.industry": "sector of work",
    "members.owns_business": "members who own a business",
    "members.disability": "members with a disability",
    "members.chronic_illness": "members with a chronic illness",
    "province_code": "province",
    "regency_code": "regency or city",
    "urban": "urban or rural village",
    "housing_tenure": "tenure of the dwelling",
    "land_status": "ownership of the land under the dwelling",
    "floor_area_m2": "floor area of the dwelling",
    "floor_material": "floor material",
    "wall_material": "wall material",
    "roof_material": "roof material",
    "drinking_water": "drinking-water source",
    "lighting_source": "lighting source",
    "pln_installed_power": "PLN installed power",
    "cooking_fuel": "cooking fuel",
    "toilet_facility": "toilet facility",
    "toilet_type": "toilet type",
    "sewage_disposal": "sewage disposal",
    "assets.movable_count": "number of movable assets owned",
    "assets.value_index": "value of the assets owned",
    "livestock.tlu": "livestock owned (in livestock units)",
    "pln_tariff_class": "PLN electricity tariff",
    "pln_kwh_month": "PLN electricity use",
    "bpjs_kes_segment": "BPJS health insurance segment",
    "bpjs_kes_arrears_months": "BPJS health insurance arrears",
    "bpjs_tk_active": "BPJS employment insurance membership",
    "bpjs_tk_wage_rp": "wage reported to BPJS employment insurance",
    "samsat_motorcycles": "motorcycles registered at Samsat",
    "samsat_cars": "cars registered at Samsat",
    "photos.available": "house photos",
    "photos.wall_label": "walls seen in the house photo",
    "photos.roof_label": "roof seen in the house photo",
    "photos.floor_label": "floor seen in the house photo",
    "photos.habitable": "habitability seen in the house photo",
    **{col: en for col, en in _ASSET_WORDS.items()},
    **{col: f"{en} owned" for col, en in _LIVESTOCK_WORDS.items()},
}

_FAMILY_FIELDS = field_map("families")


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _num(value: float) -> str:
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _member_value(variable: str, f: pd.Series) -> str:
    """A short description of the member aggregates behind a member variable (from the feature row)."""
    if variable == "members.family_size":
        return f"{_num(f['family_size'])} members"
    if variable == "members.age":
        return (f"head aged {_num(f['head_age'])}, {_num(f['n_children'])} children, "
                f"{_num(f['n_elderly'])} elderly")
    if variable == "members.sex":
        return "female head" if f["head_female"] == 1 else "male head"
    if variable == "members.marital_status":
        code = f["head_marital_status"]
        return "unknown" if _missing(code) else _member_label("marital_status", code)
    if variable == "members.highest_certificate":
        return (f"head: {_member_label('highest_certificate', f['head_certificate'])}; highest in family: "
                f"{_member_label('highest_certificate', f['max_certificate'])}")
    if variable == "members.school_participation":
        return (f"{_num(f['n_in_school'])} in school, {_num(f['n_school_age_out_of_school'])} of school age "
                "not in school")
    if variable == "members.works":
        return f"{_num(f['n_workers'])} working, head {'works' if f['head_works'] == 1 else 'does not work'}"
    if variable == "members.employment_status":
        code = f["head_employment_status"]
        head = "not working" if code == 0 else _member_label("employment_status", code)
        return f"head: {head}; {f['share_workers_formal']:.0%} of workers formal"
    if variable == "members.industry":
        code = f["head_industry"]
        head = "not working" if code == 0 else _member_label("industry", code)
        return f"head: {head}; {f['share_workers_agriculture']:.0%} of workers in agriculture"
    counts = {"members.owns_business": "n_business_owners", "members.disability": "n_disability",
              "members.chronic_illness": "n_chronic_illness"}
    return f"{_num(f[counts[variable]])} members"


def _member_label(field: str, code: float) -> str:
    for cat in field_map("members")[field].categories:
        if cat.code == int(code):
            return cat.label_en
    return f"code {_num(code)}"


def describe_value(variable: str, family: pd.Series, features: pd.Series) -> str:
    """The family's value of a raw variable in words (category labels as 'gloss (Indonesian label)')."""
    if variable.startswith("members."):
        return _member_value(variable, features)
    if variable.startswith("photos."):
        if features["photo_available"] != 1:
            return "no photo"
        cols = [c for c in features.index if c.startswith("photo_" + variable.split(".")[1].split("_")[0])]
        if variable == "photos.habitable":
            return f"{features['photo_habitable']:.0%} likely habitable"
        if variable == "photos.available":
            return "photo available"
        best = max(cols, key=lambda c: -1.0 if _missing(features[c]) else features[c])
        return f"{best.split('_', 2)[2].replace('_', '/')} ({features[best]:.0%})"
    if variable == "assets.movable_count":
        return f"{_num(features['movable_asset_count'])} of {len(MOVABLE_ASSETS)}"
    if variable == "assets.value_index":
        return f"index {features['asset_value_index']:.2f}"
    if variable == "livestock.tlu":
        return f"{features['livestock_tlu']:.1f} livestock units"
    if variable in ("province_code", "regency_code"):
        return _region_name(variable, str(family.get(variable)))
    value = family.get(variable, None)
    spec = _FAMILY_FIELDS.get(variable)
    if _missing(value):
        if spec is not None and spec.group.startswith("admin"):
            return "no match in the administrative data"
        return "not applicable" if spec is not None and spec.nullable else "missing"
    if spec is None:
        return str(value)
    if spec.kind == "category":
        for cat in spec.categories:
            if cat.code == int(value):
                return f"{cat.label_en} ({cat.label_id})"
        return f"code {value}"
    if spec.kind == "bool":
        return "yes" if bool(value) else "no"
    unit = f" {spec.unit}" if spec.unit else ""
    return f"{_num(float(value))}{unit}"


def _region_name(variable: str, code: str) -> str:
    """'<name> (<code>)' for a province or regency code."""
    if variable == "province_code":
        names = provinces()["province_name"]
    else:
        names = regencies().set_index("regency_code")["name"]
    return f"{names[code]} ({code})" if code in names.index else code


def contribution_text(variable: str, value: str, contribution: float) -> str:
    """One plain-English line: what the family reported and how it moved predicted log expenditure."""
    amount = f"{contribution:+.2f} log expenditure"
    if variable in _ASSET_WORDS and value in ("yes", "no"):
        verb = "owns" if value == "yes" else "does not own"
        return f"{verb} {_article(_ASSET_WORDS[variable])}: {amount}"
    if variable == "urban" and value in ("yes", "no"):
        return f"{'urban' if value == 'yes' else 'rural'} village: {amount}"
    label = VARIABLE_LABELS.get(variable, variable)
    return f"{label}: {value}: {amount}"


def _article(noun: str) -> str:
    if noun.startswith(("gold", "land")):
        return noun
    return ("an " if noun[0] in "aeiou" else "a ") + noun
