"""JSON Schema (draft 2020-12) of the DTSEN data contract, generated from `features.schema`.

- `table_row_schema(table)`: one row of a table (families, members, photos, survey) as a JSON object.
- `family_request_schema()`: one family with its members, the request object of the scoring service
  and of `features.validation.validate_family_json` (`members` items may omit `family_id`).
- `contract_schema()`: one document holding all of the above under `$defs`.

Mapping: category -> integer with `enum` of the codes (labels listed in `description` and in
`x-categories`); int -> integer with minimum/maximum; float -> number with minimum/maximum; bool ->
boolean; string -> string with `pattern`; region -> string with `enum` of the BPS codes. A nullable
field has type `[<type>, "null"]` (and `null` in its enum) and is not `required`: in JSON a left-out
key reads as null. The conditional rules of `features.validation.CONDITIONAL_RULES` become
`if`/`then`/`else` clauses; personal-identifier keys (`schema.FORBIDDEN_COLUMNS`) are refused through
`propertyNames`. What JSON Schema cannot say (one head per family, unique member numbers, regency inside
the province) is checked only by `features.validation`.
"""

from __future__ import annotations

from typing import Any

from features import schema
from features.schema import FieldSpec
from features.validation import CONDITIONAL_RULES

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://dtsen-desil.example/schema"

_JSON_TYPES = {"category": "integer", "int": "integer", "float": "number", "bool": "boolean",
               "string": "string", "region": "string"}


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    """JSON Schema of one field."""
    json_type = _JSON_TYPES[spec.kind]
    out: dict[str, Any] = {"type": [json_type, "null"] if spec.nullable else json_type}
    description = spec.description
    if spec.unit:
        description += f" Unit: {spec.unit}."
        out["x-unit"] = spec.unit
    if spec.kind == "category":
        out["enum"] = [*spec.codes, *([None] if spec.nullable else [])]
        description += " Codes: " + "; ".join(f"{c.code} = {c.label_id} ({c.label_en})" for c in spec.categories)
        out["x-categories"] = [{"code": c.code, "label_id": c.label_id, "label_en": c.label_en}
                               for c in spec.categories]
    elif spec.kind in ("int", "float"):
        if spec.minimum is not None:
            out["minimum"] = int(spec.minimum) if float(spec.minimum).is_integer() else spec.minimum
        if spec.maximum is not None:
            out["maximum"] = int(spec.maximum) if float(spec.maximum).is_integer() else spec.maximum
    elif spec.kind == "region":
        codes = sorted(schema.allowed_provinces() if spec.name == "province_code" else schema.allowed_regencies())
        out["enum"] = [*codes, *([None] if spec.nullable else [])]
    elif spec.pattern:
        out["pattern"] = spec.pattern
    out["description"] = description
    if spec.source:
        out["x-source"] = spec.source
    return out


def _forbidden_names_pattern() -> str:
    """An ECMA-262 regex matching the forbidden identifier names in any letter case."""
    def any_case(name: str) -> str:
        return "".join(f"[{ch.lower()}{ch.upper()}]" if ch.isalpha() else ch for ch in name)

    return "^(" + "|".join(any_case(n) for n in sorted(schema.FORBIDDEN_COLUMNS)) + ")$"


def _rule_clauses(table: str) -> list[dict[str, Any]]:
    clauses = []
    for rule in CONDITIONAL_RULES:
        if rule.table != table:
            continue
        when_spec = schema.field_map(table)[rule.when]
        as_json = [bool(v) if when_spec.kind == "bool" else int(v) for v in rule.null_when]
        clauses.append({
            "$comment": rule.text(),
            "if": {"properties": {rule.when: {"enum": as_json}}, "required": [rule.when]},
            "then": {"properties": {rule.field: {"type": "null"}}},
            "else": {
                "if": {"properties": {rule.when: {"type": "null"}}},
                "else": {"required": [rule.field], "properties": {rule.field: {"not": {"type": "null"}}}},
            },
        })
    return clauses


def table_row_schema(table: str, *, family_id_optional: bool = False) -> dict[str, Any]:
    """JSON Schema of one row of `table`; `family_id_optional` for members nested in a family."""
    specs = schema.table_fields(table)
    required = [s.name for s in specs if not s.nullable and not (family_id_optional and s.name == "family_id")]
    out: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": f"{ID_BASE}/{table}-row",
        "title": f"DTSEN {table} row",
        "description": f"One row of the {table} table of the DTSEN data contract (features/schema.py).",
        "type": "object",
        "properties": {s.name: field_schema(s) for s in specs},
        "required": required,
        "propertyNames": {"not": {"pattern": _forbidden_names_pattern()}},
    }
    clauses = _rule_clauses(table)
    if clauses:
        out["allOf"] = clauses
    return out


def family_request_schema() -> dict[str, Any]:
    """JSON Schema of one family with its members (the scoring request object)."""
    family = table_row_schema("families")
    member = table_row_schema("members", family_id_optional=True)
    member.pop("$schema")
    member["$id"] = f"{ID_BASE}/member-in-family"
    family["$id"] = f"{ID_BASE}/family-with-members"
    family["title"] = "DTSEN family with its members"
    family["description"] = ("One family (families fields) with its members (members fields; family_id may be "
                             "left out). Exactly one member must be the head (relationship 1).")
    family["properties"]["members"] = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/member"},
                                       "description": "the family's members, one object per person"}
    family["required"] = [*family["required"], "members"]
    family["$defs"] = {"member": member}
    family["examples"] = [example_family()]
    return family


def contract_schema() -> dict[str, Any]:
    """All row schemas and the family request under `$defs` of one document."""
    defs: dict[str, Any] = {}
    for table in schema.TABLES:
        row = table_row_schema(table)
        row.pop("$schema")
        defs[f"{table}_row"] = row
    request = family_request_schema()
    request.pop("$schema")
    defs["family_with_members"] = request
    return {"$schema": DRAFT, "$id": f"{ID_BASE}/contract", "title": "DTSEN data contract (dtsen-desil)",
            "$defs": defs}


def example_family(family_id: str = "Kexample0001") -> dict[str, Any]:
    """A valid, entirely made-up family with three members (the schema's example; no real person)."""
    family: dict[str, Any] = {
        "family_id": family_id, "province_code": "33", "regency_code": "3301", "urban": False,
        "housing_tenure": 1, "land_status": 1, "floor_area_m2": 48, "floor_material": 2, "wall_material": 1,
        "roof_material": 2, "drinking_water": 2, "lighting_source": 1, "pln_installed_power": 2,
        "cooking_fuel": 4, "toilet_facility": 1, "toilet_type": 1, "sewage_disposal": 1,
        "pln_tariff_class": 2, "pln_kwh_month": 95.5, "bpjs_kes_segment": 1, "bpjs_kes_arrears_months": None,
        "bpjs_tk_active": None, "bpjs_tk_wage_rp": None, "samsat_motorcycles": 1, "samsat_cars": 0,
        "ground_check_status": 1, "refused_program": False,
    }
    for col, _, _ in schema.MOVABLE_ASSETS + schema.IMMOVABLE_ASSETS:
        family[col] = col in ("asset_motorcycle", "asset_smartphone", "asset_flat_tv")
    for col, _, _ in schema.LIVESTOCK:
        family[col] = 2 if col == "livestock_goat" else 0
    person = {"owns_business": False, "disability": False, "chronic_illness": False, "negative_list": 0}
    family["members"] = [
        {"member_no": 1, "relationship": 1, "sex": 1, "age": 41, "marital_status": 2, "school_participation": 3,
         "school_level": 2, "highest_certificate": 2, "works": True, "industry": 1, "employment_status": 1,
         **person},
        {"member_no": 2, "relationship": 2, "sex": 2, "age": 37, "marital_status": 2, "school_participation": 3,
         "school_level": 1, "highest_certificate": 1, "works": True, "industry": 6, "employment_status": 7,
         **person},
        {"member_no": 3, "relationship": 3, "sex": 2, "age": 9, "marital_status": 1, "school_participation": 2,
         "school_level": 1, "highest_certificate": 0, "works": False, "industry": None,
         "employment_status": None, **person},
    ]
    return family
