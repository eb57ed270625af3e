"""The DTSEN data contract: the single source of truth for table names, fields, types, units,
allowed categories (BPS codes with Indonesian label and English gloss) and value ranges.

Three tables (DESIGN §2):
- `families`: one row per family; 26 ground-check family variables, immovable assets and livestock,
  administrative signals (each nullable: matching by NIK/KK fails for real families), the
  negative-list facts the program rules need, and geography.
- `members`: one row per person; the 13 ground-check person variables plus the person's
  negative-list status. NIK, family-card number and names never enter.
- `photos`: the photo manifest (family_id, kind, path, labels where known).

Category codes follow `features/reference/dtsen_codes.md` (a DTSEN 2025 regional data dictionary) for the
family variables; person-level lists follow the SUSENAS/Regsosek 2022 lists named in each field's
`source`. Storage dtypes: categories and counts are nullable integers (pandas `Int16`/`Int32`), flags
are nullable booleans, measurements are float64, ids and region codes are strings.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import pandas as pd

from features.regions import province_codes, regency_codes

Kind = Literal["category", "bool", "int", "float", "string", "region"]

SOURCE_DTSEN = "DTSEN 2025 regional data dictionary (features/reference/dtsen_codes.md)"
SOURCE_SUSENAS = "SUSENAS/Regsosek 2022 person list (BPS)"
SOURCE_ADMIN = "administrative match (synthetic coding, see field description)"


@dataclass(frozen=True)
class Category:
    """One allowed code: the BPS code, its Indonesian label and an English gloss."""

    code: int
    label_id: str
    label_en: str


@dataclass(frozen=True)
class FieldSpec:
    """One column of a table and everything a validator or a reader of the contract needs.

    `minimum`/`maximum` are inclusive bounds for int/float fields. `categories` lists the allowed
    codes of a category field. `nullable` says whether a missing value is allowed at all;
    conditional rules (e.g. installed power only with metered PLN lighting) live in `validation`.
    """

    name: str
    kind: Kind
    description: str
    unit: str | None = None
    nullable: bool = False
    categories: tuple[Category, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    group: str = ""
    source: str = ""
    pattern: str | None = None

    @property
    def codes(self) -> tuple[int, ...]:
        return tuple(c.code for c in self.categories)

    def allowed_text(self) -> str:
        """Human-readable statement of what the field allows (used in every error message)."""
        if self.kind == "category":
            listed = ", ".join(f"{c.code}={c.label_en}" for c in self.categories)
            text = f"one of the codes {{{listed}}}"
        elif self.kind == "bool":
            text = "true or false"
        elif self.kind in ("int", "float"):
            what = "an integer" if self.kind == "int" else "a number"
            text = f"{what} in [{_fmt(self.minimum, '-inf')}, {_fmt(self.maximum, 'inf')}]"
            if self.unit:
                text += f" {self.unit}"
        elif self.kind == "region":
            text = "a BPS region code listed in features/reference"
        else:
            text = f"a string matching {self.pattern}" if self.pattern else "a string"
        return text + (" or null" if self.nullable else " (required)")

    def pandas_dtype(self) -> str:
        """Storage dtype in pandas (nullable extension types, so that null survives Parquet)."""
        if self.kind == "category":
            return "Int16"
        if self.kind == "int":
            return "Int32"
        if self.kind == "bool":
            return "boolean"
        if self.kind == "float":
            return "float64"
        return "string"


def _fmt(value: float | None, unbounded: str) -> str:
    if value is None:
        return unbounded
    return str(int(value)) if float(value).is_integer() else str(value)


def _cats(*items: tuple[int, str, str]) -> tuple[Category, ...]:
    return tuple(Category(code, label_id, label_en) for code, label_id, label_en in items)


YES_NO_NOTE = "DTSEN codes assets 1 Ya / 2 Tidak; stored here as true/false"

# Identifiers that must never enter a table (checked on column names, case-insensitive).
FORBIDDEN_COLUMNS: frozenset[str] = frozenset(
    {
        "nik", "no_nik", "nomor_nik", "kk", "no_kk", "nomor_kk", "nkk", "family_card_number",
        "nama", "name", "nama_lengkap", "full_name", "nama_kepala_keluarga", "head_name",
        "alamat", "address", "id_pelanggan_pln", "pln_customer_id", "phone", "no_hp",
    }
)

# 4-64 letters, digits, '_' or '-', but never 15 or more digits alone: that is the shape of a NIK (16
# digits) or family-card number, which must be pseudonymised (features.pseudonym) before it enters.
FAMILY_ID_PATTERN = r"^(?!\d{15,}$)[A-Za-z0-9_-]{4,64}$"
IDENTIFIER_LIKE_PATTERN = r"^\s*\d{15,}\s*$"

# --------------------------------------------------------------------------------------------
# families
# --------------------------------------------------------------------------------------------
_ID_FIELDS = (
    FieldSpec("family_id", "string", "pseudonymous family id (keyed hash of the family-card number, "
              "see features.pseudonym); never the card number itself", pattern=FAMILY_ID_PATTERN,
              group="identity"),
    FieldSpec("province_code", "region", "BPS 2-digit province code (11 Aceh ... 97 Papua Pegunungan)",
              group="geography", source="features/reference/bps_provinces.csv"),
    FieldSpec("regency_code", "region", "BPS 4-digit regency/city code; its first two digits are the "
              "province code", group="geography", source="features/reference/regencies_2025.csv"),
    FieldSpec("urban", "bool", "urban (perkotaan) classification of the village", group="geography"),
)

_HOUSING_FIELDS = (
    FieldSpec("housing_tenure", "category", "status kepemilikan rumah: tenure of the dwelling",
              categories=_cats((1, "Milik sendiri", "own"), (2, "Kontrak/sewa", "rent"),
                               (3, "Bebas sewa", "rent-free"), (4, "Dinas", "official housing"),
                               (5, "Lainnya", "other")), group="housing", source=SOURCE_DTSEN),
    FieldSpec("land_status", "category", "status lahan tempat tinggal: who owns the land under the dwelling",
              categories=_cats((1, "Milik sendiri", "own land"), (2, "Milik orang lain", "someone else's land"),
                               (3, "Tanah negara", "state land"), (4, "Lainnya", "other")),
              group="housing", source="Regsosek 2022 household form (not in the DTSEN export)"),
    FieldSpec("floor_area_m2", "int", "luas lantai: floor area of the dwelling", unit="m2",
              minimum=1, maximum=999, group="housing", source=SOURCE_DTSEN),
    FieldSpec("floor_material", "category", "jenis lantai terluas: main floor material",
              categories=_cats((1, "Marmer/granit", "marble/granite"), (2, "Keramik", "ceramic tile"),
                               (3, "Parket/vinil/karpet", "parquet/vinyl/carpet"),
                               (4, "Ubin/tegel/teraso", "tile/terrazzo"), (5, "Kayu/papan", "wood/planks"),
                               (6, "Semen/bata merah", "cement/red brick"), (7, "Bambu", "bamboo"),
                               (8, "Tanah", "earth"), (9, "Lainnya", "other")),
              group="housing", source=SOURCE_DTSEN),
    FieldSpec("wall_material", "category", "jenis dinding terluas: main wall material",
              categories=_cats((1, "Tembok", "masonry"),
                               (2, "Plesteran anyaman bambu/kawat", "plastered bamboo/wire weave"),
                               (3, "Kayu/papan/gypsum/GRC/calciboard", "wood/planks/gypsum/board"),
                               (4, "Anyaman bambu", "woven bamboo"), (5, "Batang kayu", "logs"),
                               (6, "Bambu", "bamboo"), (7, "Lainnya", "other")),
              group="housing", source=SOURCE_DTSEN),
    FieldSpec("roof_material", "category", "jenis atap terluas: main roof material",
              categories=_cats((1, "Beton", "concrete"), (2, "Genteng", "clay tile"),
                               (3, "Seng", "corrugated zinc"), (4, "Asbes", "asbestos"), (5, "Bambu", "bamboo"),
                               (6, "Kayu/sirap", "wood shingles"),
                               (7, "Jerami/ijuk/daun-daunan/rumbia", "thatch/palm fibre/leaves"),
                               (8, "Lainnya", "other")),
              group="housing", source=SOURCE_DTSEN),
    FieldSpec("drinking_water", "category", "sumber air minum utama: main drinking-water source",
              categories=_cats((1, "Air kemasan bermerk", "bottled water"), (2, "Air isi ulang", "refill water"),
                               (3, "Leding", "piped water"), (4, "Sumur bor/pompa", "borehole/pump"),
                               (5, "Sumur terlindung", "protected well"),
                               (6, "Sumur tak terlindung", "unprotected well"),
                               (7, "Mata air terlindung", "protected spring"),
                               (8, "Mata air tak terlindung", "unprotected spring"),
                               (9, "Air permukaan", "surface water (river, lake, pond)"),
                               (10, "Air hujan", "rain water"), (11, "Lainnya", "other")),
              group="housing", source=SOURCE_DTSEN),
    FieldSpec("lighting_source", "category", "sumber penerangan utama: main lighting source",
              categories=_cats((1, "Listrik PLN dengan meteran", "PLN electricity, metered"),
                               (2, "Listrik PLN tanpa meteran", "PLN electricity, no meter"),
                               (3, "Listrik non-PLN", "non-PLN electricity"),
                               (4, "Bukan listrik", "no electricity")),
              group="housing", source=SOURCE_DTSEN),
    FieldSpec("pln_installed_power", "category", "daya terpasang: PLN installed power of the metered "
              "connection; null unless lighting_source is 1 (metered PLN)", nullable=True,
              categories=_cats((1, "450 VA", "450 VA"), (2, "900 VA", "900 VA"), (3, "1.300 VA", "1,300 VA"),
                               (4, "2.200 VA", "2,200 VA"), (5, "> 2.200 VA", "more than 2,200 VA")),
              group="housing", source=SOURCE_DTSEN),
    FieldSpec("cooking_fuel", "category", "bahan bakar utama memasak: main cooking fuel",
              categories=_cats((0, "Tidak memasak di rumah", "does not cook at home"), (1, "Listrik", "electricity"),
                               (2, "LPG 5,5 kg/blue gaz", "LPG 5.5 kg / blue gaz"), (3, "LPG 12 kg", "LPG 12 kg"),
                               (4, "LPG 3 kg", "LPG 3 kg (subsidised)"), (5, "Gas kota", "city gas (PGN)"),
                               (6, "Biogas", "biogas"), (7, "Minyak tanah", "kerosene"), (8, "Briket", "briquettes"),
                               (9, "Arang", "charcoal"), (10, "Kayu bakar", "firewood"), (11, "Lainnya", "other")),
              group="housing", source=SOURCE_DTSEN),
    FieldSpec("toilet_facility", "category", "fasilitas buang air besar: defecation facility",
              categories=_cats((1, "Ada, digunakan hanya ART sendiri", "own, this family only"),
                               (2, "Ada, digunakan bersama ART keluarga tertentu", "shared with specific families"),
                               (3, "Ada, di MCK komunal", "communal MCK"), (4, "Ada, di MCK umum", "public MCK"),
                               (5, "Ada, ART tidak menggunakan", "exists, not used by the family"),
                               (6, "Tidak ada fasilitas", "none")),
              group="housing", source=SOURCE_DTSEN),
    FieldSpec("toilet_type", "category", "jenis kloset: toilet type; null when toilet_facility is 6 (none)",
              nullable=True,
              categories=_cats((1, "Leher angsa", "pour-flush (goose neck)"),
                               (2, "Plengsengan dengan tutup", "slab latrine with lid"),
                               (3, "Plengsengan tanpa tutup", "slab latrine without lid"),
                               (4, "Cemplung/cubluk", "pit latrine")),
              group="housing", source=SOURCE_DTSEN),
    FieldSpec("sewage_disposal", "category", "pembuangan akhir tinja: final sewage disposal; null when "
              "toilet_facility is 6 (none)", nullable=True,
              categories=_cats((1, "Tangki septik", "septic tank"), (2, "IPAL", "treatment plant"),
                               (3, "Kolam/sawah/sungai/danau/laut", "pond/rice field/river/lake/sea"),
                               (4, "Lubang tanah", "hole in the ground"),
                               (5, "Pantai/tanah lapang/kebun", "beach/open field/garden"),
                               (6, "Lainnya", "other")),
              group="housing", source=SOURCE_DTSEN),
)

# (column, Indonesian, English) for the 14 movable and 2 immovable assets.
MOVABLE_ASSETS: tuple[tuple[str, str, str], ...] = (
    ("asset_lpg_5_5kg", "Tabung gas 5,5 kg atau lebih", "LPG cylinder of 5.5 kg or more"),
    ("asset_refrigerator", "Lemari es/kulkas", "refrigerator"),
    ("asset_ac", "AC", "air conditioner"),
    ("asset_water_heater", "Pemanas air (water heater)", "water heater"),
    ("asset_landline", "Telepon rumah (PSTN)", "landline telephone"),
    ("asset_flat_tv", "Televisi layar datar", "flat-screen TV (30 inch or more)"),
    ("asset_gold", "Emas/perhiasan", "gold or jewellery (10 g or more)"),
    ("asset_computer", "Komputer/laptop/tablet", "computer, laptop or tablet"),
    ("asset_bicycle", "Sepeda", "bicycle"),
    ("asset_motorcycle", "Sepeda motor", "motorcycle"),
    ("asset_car", "Mobil", "car"),
    ("asset_boat", "Perahu", "boat"),
    ("asset_motorboat", "Motor tempel/perahu motor/kapal", "outboard motor, motorboat or ship"),
    ("asset_smartphone", "Smartphone", "smartphone"),
)
IMMOVABLE_ASSETS: tuple[tuple[str, str, str], ...] = (
    ("asset_land", "Lahan (selain yang ditempati)", "land other than the dwelling"),
    ("asset_house_elsewhere", "Rumah di tempat lain", "house other than the dwelling"),
)
LIVESTOCK: tuple[tuple[str, str, str], ...] = (
    ("livestock_cattle", "Sapi", "cattle"),
    ("livestock_buffalo", "Kerbau", "buffalo"),
    ("livestock_horse", "Kuda", "horse"),
    ("livestock_pig", "Babi", "pig"),
    ("livestock_goat", "Kambing/domba", "goat or sheep"),
)

_ASSET_FIELDS = tuple(
    FieldSpec(col, "bool", f"{en} ({label_id}); {YES_NO_NOTE}", group="movable_asset", source=SOURCE_DTSEN)
    for col, label_id, en in MOVABLE_ASSETS
) + tuple(
    FieldSpec(col, "bool", f"{en} ({label_id}); {YES_NO_NOTE}", group="immovable_asset", source=SOURCE_DTSEN)
    for col, label_id, en in IMMOVABLE_ASSETS
) + tuple(
    FieldSpec(col, "int", f"number of {en} owned ({label_id})", unit="head", minimum=0, maximum=999,
              group="livestock", source=SOURCE_DTSEN)
    for col, label_id, en in LIVESTOCK
)

PLN_TARIFF_CLASSES = _cats(
    (1, "R-1/TR 450 VA bersubsidi", "R-1 450 VA (subsidised)"),
    (2, "R-1/TR 900 VA bersubsidi", "R-1 900 VA (subsidised, DTKS/DTSEN)"),
    (3, "R-1/TR 900 VA-RTM", "R-1 900 VA (non-subsidised, 'rumah tangga mampu')"),
    (4, "R-1/TR 1.300 VA", "R-1 1,300 VA"),
    (5, "R-1/TR 2.200 VA", "R-1 2,200 VA"),
    (6, "R-2/TR 3.500-5.500 VA", "R-2 3,500-5,500 VA"),
    (7, "R-3/TR 6.600 VA ke atas", "R-3 6,600 VA and above"),
)
BPJS_KES_SEGMENTS = _cats(
    (1, "PBI APBN", "contribution assistance, national budget"),
    (2, "PBI APBD", "contribution assistance, regional budget"),
    (3, "PPU", "wage earner (employer pays)"),
    (4, "PBPU kelas 1", "self-paying, class 1"),
    (5, "PBPU kelas 2", "self-paying, class 2"),
    (6, "PBPU kelas 3", "self-paying, class 3"),
    (7, "BP", "non-worker (pensioner, investor)"),
    (8, "Tidak terdaftar", "matched, not enrolled"),
)

_ADMIN_FIELDS = (
    FieldSpec("pln_tariff_class", "category", "PLN tariff class of the family's matched customer id "
              "(null: no match)", nullable=True, categories=PLN_TARIFF_CLASSES, group="admin_pln",
              source="PLN tariff classes (Permen ESDM); matched by customer id"),
    FieldSpec("pln_kwh_month", "float", "mean monthly PLN consumption over the last 12 months (null: no match)",
              unit="kWh/month", nullable=True, minimum=0, maximum=20000, group="admin_pln", source=SOURCE_ADMIN),
    FieldSpec("bpjs_kes_segment", "category", "BPJS-Kesehatan membership segment of the family head "
              "(null: no match)", nullable=True, categories=BPJS_KES_SEGMENTS, group="admin_bpjs",
              source="BPJS-Kesehatan segments (Perpres 82/2018)"),
    FieldSpec("bpjs_kes_arrears_months", "int", "months of unpaid BPJS-Kesehatan contributions (null: no "
              "match or not self-paying)", unit="months", nullable=True, minimum=0, maximum=240,
              group="admin_bpjs", source=SOURCE_ADMIN),
    FieldSpec("bpjs_tk_active", "bool", "any member has an active BPJS-Ketenagakerjaan membership (null: no "
              "match)", nullable=True, group="admin_bpjs", source=SOURCE_ADMIN),
    FieldSpec("bpjs_tk_wage_rp", "float", "highest reported monthly wage among active BPJS-Ketenagakerjaan "
              "members (null: no match or none active)", unit="Rp/month", nullable=True, minimum=0,
              maximum=1e10, group="admin_bpjs", source=SOURCE_ADMIN),
    FieldSpec("samsat_motorcycles", "int", "motorcycles registered at Samsat to family members (null: no "
              "match)", unit="vehicles", nullable=True, minimum=0, maximum=99, group="admin_samsat",
              source=SOURCE_ADMIN),
    FieldSpec("samsat_cars", "int", "cars registered at Samsat to family members (null: no match)",
              unit="vehicles", nullable=True, minimum=0, maximum=99, group="admin_samsat", source=SOURCE_ADMIN),
)

GROUND_CHECK_STATUS = _cats(
    (1, "Ditemukan", "found"),
    (2, "Alamat tidak ditemukan", "address not found"),
    (3, "Keluarga tidak ditemukan", "family not found"),
    (4, "Meninggal/bubar", "deceased (all members) / family dissolved"),
)

_RULE_FIELDS = (
    FieldSpec("ground_check_status", "category", "outcome of the last ground check (verval); codes 2-4 "
              "exclude the family from every program (Kepmensos 79/2025)", categories=GROUND_CHECK_STATUS,
              group="rules", source="Kepmensos 79/2025 exclusion list"),
    FieldSpec("refused_program", "bool", "the family refused social assistance (exclusion rule)",
              group="rules", source="Kepmensos 79/2025 exclusion list"),
)

FAMILY_FIELDS: tuple[FieldSpec, ...] = _ID_FIELDS + _HOUSING_FIELDS + _ASSET_FIELDS + _ADMIN_FIELDS + _RULE_FIELDS

# The 26 ground-check family variables (12 housing/utility + 14 movable assets, dtsen_codes.md);
# land_status, immovable assets and livestock are asked too and kept.
GROUND_CHECK_FAMILY_VARIABLES: tuple[str, ...] = (
    "housing_tenure", "floor_area_m2", "floor_material", "wall_material", "roof_material",
    "drinking_water", "lighting_source", "pln_installed_power", "cooking_fuel", "toilet_facility",
    "toilet_type", "sewage_disposal",
) + tuple(col for col, _, _ in MOVABLE_ASSETS)
ADMIN_FIELDS: tuple[str, ...] = tuple(f.name for f in _ADMIN_FIELDS)

# --------------------------------------------------------------------------------------------
# members
# --------------------------------------------------------------------------------------------
NEGATIVE_LIST = _cats(
    (0, "Tidak ada", "none"),
    (1, "PNS/TNI/POLRI", "civil servant, military or police"),
    (2, "Pegawai BUMN/BUMD", "state- or region-owned enterprise employee"),
    (3, "Pejabat negara", "state official"),
    (4, "Pensiunan PNS/TNI/POLRI/BUMN/BUMD", "pensioner of the above"),
    (5, "Pendamping sosial (PKH, rehabilitasi, TKSK)", "social-welfare staff"),
    (6, "Guru bersertifikat", "certified teacher"),
    (7, "Penghasilan tetap dari APBN/APBD", "routine income from state or regional budget"),
    (8, "Penghasilan di atas UMR", "income above the regional minimum wage"),
    (9, "Pemilik/pengurus/direksi perusahaan", "company owner, board member or executive"),
    (10, "Tenaga kesehatan terdaftar", "registered health worker"),
    (11, "Perangkat desa aktif", "active village official"),
    (12, "Terlibat perjudian (PPATK)", "gambling involvement (PPATK list)"),
)

MEMBER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("family_id", "string", "the family the person belongs to (families.family_id)",
              pattern=FAMILY_ID_PATTERN, group="identity"),
    FieldSpec("member_no", "int", "number of the person within the family (1 = listed first)",
              minimum=1, maximum=99, group="identity"),
    FieldSpec("relationship", "category", "hubungan dengan kepala keluarga: relationship to the family head",
              categories=_cats((1, "Kepala keluarga", "head"), (2, "Istri/suami", "spouse"), (3, "Anak", "child"),
                               (4, "Menantu", "child-in-law"), (5, "Cucu", "grandchild"),
                               (6, "Orang tua/mertua", "parent or parent-in-law"), (7, "Famili lain", "other relative"),
                               (8, "Lainnya", "other")), group="demography", source=SOURCE_SUSENAS),
    FieldSpec("sex", "category", "jenis kelamin", categories=_cats((1, "Laki-laki", "male"), (2, "Perempuan", "female")),
              group="demography", source=SOURCE_SUSENAS),
    FieldSpec("age", "int", "age in completed years", unit="years", minimum=0, maximum=120,
              group="demography", source=SOURCE_SUSENAS),
    FieldSpec("marital_status", "category", "status perkawinan",
              categories=_cats((1, "Belum kawin", "never married"), (2, "Kawin", "married"),
                               (3, "Cerai hidup", "divorced"), (4, "Cerai mati", "widowed")),
              group="demography", source=SOURCE_SUSENAS),
    FieldSpec("school_participation", "category", "partisipasi sekolah",
              categories=_cats((1, "Tidak/belum pernah sekolah", "never attended"), (2, "Masih sekolah", "in school"),
                               (3, "Tidak bersekolah lagi", "no longer in school")),
              group="education", source=SOURCE_SUSENAS),
    FieldSpec("school_level", "category", "jenjang pendidikan tertinggi yang pernah/sedang diduduki: highest "
              "level attended; null when never attended", nullable=True,
              categories=_cats((1, "SD/sederajat", "primary"), (2, "SMP/sederajat", "junior secondary"),
                               (3, "SMA/SMK/sederajat", "senior secondary"), (4, "D1-D3", "diploma"),
                               (5, "D4/S1", "bachelor"), (6, "S2/S3", "master or doctorate")),
              group="education", source=SOURCE_SUSENAS),
    FieldSpec("highest_certificate", "category", "ijazah tertinggi yang dimiliki: highest certificate held",
              categories=_cats((0, "Tidak punya ijazah", "none"), (1, "SD/sederajat", "primary"),
                               (2, "SMP/sederajat", "junior secondary"), (3, "SMA/SMK/sederajat", "senior secondary"),
                               (4, "D1-D3", "diploma"), (5, "D4/S1", "bachelor"), (6, "S2/S3", "master or doctorate")),
              group="education", source=SOURCE_SUSENAS),
    FieldSpec("works", "bool", "worked at least one hour in the last week (or has a job temporarily not worked)",
              group="work", source=SOURCE_SUSENAS),
    FieldSpec("industry", "category", "lapangan usaha pekerjaan utama (KBLI 2020 sections, grouped); null when "
              "not working", nullable=True,
              categories=_cats((1, "Pertanian, kehutanan, perikanan", "agriculture, forestry, fishery"),
                               (2, "Pertambangan dan penggalian", "mining and quarrying"),
                               (3, "Industri pengolahan", "manufacturing"),
                               (4, "Listrik, gas, air, limbah", "electricity, gas, water, waste"),
                               (5, "Konstruksi", "construction"), (6, "Perdagangan", "wholesale and retail trade"),
                               (7, "Transportasi dan pergudangan", "transport and storage"),
                               (8, "Akomodasi dan makan minum", "accommodation and food"),
                               (9, "Informasi dan komunikasi", "information and communication"),
                               (10, "Keuangan dan asuransi", "finance and insurance"),
                               (11, "Real estat dan jasa perusahaan", "real estate and business services"),
                               (12, "Administrasi pemerintahan", "public administration and defence"),
                               (13, "Jasa pendidikan", "education"), (14, "Jasa kesehatan", "health and social work"),
                               (15, "Jasa lainnya", "other services")),
              group="work", source="KBLI 2020 sections as grouped in SUSENAS tables"),
    FieldSpec("employment_status", "category", "status dalam pekerjaan utama; null when not working", nullable=True,
              categories=_cats((1, "Berusaha sendiri", "own-account worker"),
                               (2, "Berusaha dibantu buruh tidak tetap/tidak dibayar",
                                "employer with temporary/unpaid workers"),
                               (3, "Berusaha dibantu buruh tetap/dibayar", "employer with permanent paid workers"),
                               (4, "Buruh/karyawan/pegawai", "employee"),
                               (5, "Pekerja bebas pertanian", "casual worker, agriculture"),
                               (6, "Pekerja bebas nonpertanian", "casual worker, non-agriculture"),
                               (7, "Pekerja keluarga/tidak dibayar", "unpaid family worker")),
              group="work", source=SOURCE_SUSENAS),
    FieldSpec("owns_business", "bool", "owns or runs a business (usaha)", group="work", source=SOURCE_SUSENAS),
    FieldSpec("disability", "bool", "has a lot of difficulty or cannot do at least one functional domain "
              "(seeing, hearing, walking, hands, remembering, self-care, communicating)", group="health",
              source="Washington Group short set as used in SUSENAS"),
    FieldSpec("chronic_illness", "bool", "has a chronic illness (penyakit kronis/menahun)", group="health",
              source=SOURCE_SUSENAS),
    FieldSpec("negative_list", "category", "person-level exclusion fact of Kepmensos 79/2025 (0 = none); makes "
              "the whole family ineligible", categories=NEGATIVE_LIST, group="rules",
              source="Kepmensos 79/2025 exclusion list"),
)

# The 13 ground-check person variables (relationship ... chronic illness).
GROUND_CHECK_PERSON_VARIABLES: tuple[str, ...] = (
    "relationship", "sex", "age", "marital_status", "school_participation", "school_level",
    "highest_certificate", "works", "industry", "employment_status", "owns_business", "disability",
    "chronic_illness",
)

# --------------------------------------------------------------------------------------------
# photos (manifest) and the merged visual classes of the house CNN
# --------------------------------------------------------------------------------------------
# The schema's material codes merged to visually distinct classes (several codes look alike in a
# photo). Keys: class name; values: the schema codes in that class.
WALL_CLASSES: dict[str, tuple[int, ...]] = {
    "masonry": (1, 2),  # Tembok; plastered bamboo/wire weave looks like rendered masonry
    "wood": (3, 5),  # planks/board and logs
    "bamboo": (4, 6, 7),  # woven bamboo, bamboo, other (mostly improvised)
}
ROOF_CLASSES: dict[str, tuple[int, ...]] = {
    "concrete_asbestos": (1, 4),  # flat grey sheets/slabs
    "clay_tile": (2,),
    "zinc": (3, 8),  # corrugated metal; 'other' is mostly metal sheet
    "thatch_wood": (5, 6, 7),  # bamboo, wood shingles, thatch/leaves
}
FLOOR_CLASSES: dict[str, tuple[int, ...]] = {
    "ceramic": (1, 2, 3, 4),  # marble/granite, ceramic, parquet/vinyl, tile/terrazzo
    "cement": (6, 9),
    "wood": (5, 7),  # planks, bamboo
    "earth": (8,),
}

PHOTO_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("family_id", "string", "family the photo belongs to", pattern=FAMILY_ID_PATTERN, group="identity"),
    FieldSpec("kind", "string", "front (wall and roof visible) or floor", pattern=r"^(front|floor)$", group="photo"),
    FieldSpec("path", "string", "image file path, relative to the manifest's folder (JPEG or PNG)", group="photo"),
    FieldSpec("wall_label", "string", f"wall class, one of {sorted(WALL_CLASSES)}; null when unknown or not "
              "visible", nullable=True, pattern=r"^(" + "|".join(WALL_CLASSES) + r")$", group="label"),
    FieldSpec("roof_label", "string", f"roof class, one of {sorted(ROOF_CLASSES)}; null when unknown",
              nullable=True, pattern=r"^(" + "|".join(ROOF_CLASSES) + r")$", group="label"),
    FieldSpec("floor_label", "string", f"floor class, one of {sorted(FLOOR_CLASSES)}; null when unknown",
              nullable=True, pattern=r"^(" + "|".join(FLOOR_CLASSES) + r")$", group="label"),
    FieldSpec("habitable", "bool", "dwelling judged habitable (layak huni); null when unknown", nullable=True,
              group="label"),
)

# --------------------------------------------------------------------------------------------
# survey and truth (written by the generator; survey by a real SUSENAS-like sample too)
# --------------------------------------------------------------------------------------------
SURVEY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("family_id", "string", "surveyed family", pattern=FAMILY_ID_PATTERN, group="identity"),
    FieldSpec("log_pcexp", "float", "natural log of measured monthly per-capita expenditure", unit="log(Rp/month)",
              minimum=0, maximum=25, group="target"),
    FieldSpec("survey_weight", "float", "survey weight: families in the population represented by this family",
              unit="families", minimum=0, maximum=1e9, group="target"),
)

TABLES: dict[str, tuple[FieldSpec, ...]] = {
    "families": FAMILY_FIELDS,
    "members": MEMBER_FIELDS,
    "photos": PHOTO_FIELDS,
    "survey": SURVEY_FIELDS,
}


def table_fields(table: str) -> tuple[FieldSpec, ...]:
    """Fields of one table by name ('families', 'members', 'photos', 'survey')."""
    try:
        return TABLES[table]
    except KeyError:
        raise KeyError(f"unknown table {table!r}; tables are {sorted(TABLES)}") from None


def field_map(table: str) -> dict[str, FieldSpec]:
    return {f.name: f for f in table_fields(table)}


@lru_cache(maxsize=1)
def allowed_provinces() -> frozenset[str]:
    return frozenset(province_codes())


@lru_cache(maxsize=1)
def allowed_regencies() -> frozenset[str]:
    return frozenset(regency_codes())


def empty_frame(table: str) -> pd.DataFrame:
    """A zero-row DataFrame with the table's columns and storage dtypes."""
    return pd.DataFrame({f.name: pd.Series(dtype=f.pandas_dtype()) for f in table_fields(table)})


def coerce_dtypes(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Cast known columns to their storage dtypes (values that cannot be cast are left for validation)."""
    out = df.copy()
    for spec in table_fields(table):
        if spec.name in out.columns:
            with contextlib.suppress(TypeError, ValueError):
                out[spec.name] = out[spec.name].astype(spec.pandas_dtype())
    return out


def category_label(table: str, field_name: str, code: int, lang: str = "en") -> str:
    """The label of one category code ('en' gloss or 'id' Indonesian label)."""
    for cat in field_map(table)[field_name].categories:
        if cat.code == code:
            return cat.label_en if lang == "en" else cat.label_id
    raise KeyError(f"{table}.{field_name} has no code {code}")
