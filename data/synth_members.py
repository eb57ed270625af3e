"""Members of synthetic families: relationship, sex, age, marital status, schooling, work, health
and negative-list facts, drawn vectorised for all people of a block at once (np.repeat over family
sizes; no Python loop per family or person).

Rules kept so that every row is valid against features.schema: member 1 is the only head
(relationship 1); school_level is null iff school_participation is 1 (never attended); industry
and employment_status are null iff works is False; the certificate never exceeds what the age
allows.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from config.synth import SynthConfig
from data.synth_context import BlockContext
from data.synth_draws import NULL_CODE, choice, ordered, prob_probit

# highest certificate a person of this age can hold: (upper age bound inclusive, max certificate)
_CERT_CAP_BY_AGE = ((12, 0), (15, 1), (18, 2), (20, 3), (22, 4), (24, 5))
_SOE_INDUSTRIES = (2, 4, 7, 10)  # mining, utilities, transport, finance: where state enterprises employ


def _cert_cap(age: np.ndarray) -> np.ndarray:
    cap = np.full(age.shape[0], 6, dtype=np.int16)
    for upper, value in reversed(_CERT_CAP_BY_AGE):
        cap[age <= upper] = value
    return cap


def members(rng: np.random.Generator, ctx: BlockContext, config: SynthConfig) -> tuple[dict, dict]:
    """People of one block.

    Returns (people, family): `people` maps column -> array of length n_people (with `fam` the
    block-local family position and the schema's member columns, -1 = null); `family` maps
    aggregate name -> array of length n_families (`any_formal`, `head_formal`, `any_informal_worker`,
    `any_pensioner`, `any_agri`: a member works in agriculture).
    """
    m = config.members
    n = ctx.n
    size = ctx.size.astype(np.int64)
    total = int(size.sum())
    fam = np.repeat(np.arange(n), size)
    starts = np.concatenate([[0], np.cumsum(size)[:-1]])
    pos = np.arange(total) - starts[fam]
    zm = ctx.z_std[fam]
    um = ctx.urban[fam]

    # --- relationship --------------------------------------------------------------------
    spouse_prob = np.where(size >= 3, m.spouse_prob_larger, np.where(size == 2, m.spouse_prob_size2, 0.0))
    has_spouse = rng.random(n) < spouse_prob
    is_head = pos == 0
    is_spouse = (pos == 1) & has_spouse[fam]
    other_rel = choice(rng, total, m.other_codes, m.other_pmf)
    relationship = np.where(is_head, 1, np.where(is_spouse, 2, other_rel)).astype(np.int16)

    # --- sex and age (head first, then relative to the head) -----------------------------
    head_male = rng.random(n) < np.where(has_spouse, m.head_male_if_spouse, m.head_male_if_single)
    head_age = np.clip(np.rint(rng.normal(m.head_age_mean, m.head_age_sd, n)), 17, 95).astype(np.int64)
    ha = head_age[fam]
    hm = head_male[fam]
    u = rng.random(total)
    gap = np.where(hm, -1.0, 1.0) * m.spouse_age_gap_mean + rng.normal(0.0, m.spouse_age_gap_sd, total)
    age_by_rel = {
        2: np.clip(np.rint(ha + gap), 16, 110),
        3: np.floor(u * np.maximum(1, ha - 17)),
        4: np.clip(np.rint(ha - 24 + rng.normal(0.0, 4.0, total)), 16, 110),
        5: np.floor(u * np.maximum(1, ha - 38)),
        6: np.clip(ha + 20 + np.floor(u * 15), 0, 100),
        7: np.floor(u * 80),
        8: 15 + np.floor(u * 50),
    }
    age = ha.astype(np.float64)
    for code, values in age_by_rel.items():
        age = np.where(relationship == code, values, age)
    age = age.astype(np.int64)

    male_prob = np.select([relationship == 6, relationship == 4], [0.35, 0.3], default=0.5)
    sex_other = np.where(rng.random(total) < male_prob, 1, 2)
    sex = np.where(is_head, np.where(hm, 1, 2), np.where(is_spouse, np.where(hm, 2, 1), sex_other)).astype(np.int16)

    # --- marital status --------------------------------------------------------------------
    u = rng.random(total)
    single_head_young = np.where(u < 0.75, 1, np.where(u < 0.95, 3, 4))
    single_head_female = np.where(u < 0.08, 1, np.where(u < 0.35, 3, 4))
    single_head_male = np.where(u < 0.35, 1, np.where(u < 0.65, 3, 4))
    head_status = np.where(
        has_spouse[fam], 2, np.where(age < 30, single_head_young, np.where(sex == 2, single_head_female, single_head_male))
    )
    child_status = np.where(age < 16, 1, np.where((age >= 20) & (u < 0.10), 2, np.where((age >= 25) & (u > 0.98), 3, 1)))
    relative_status = np.where(age < 16, 1, np.where(u < 0.4, 2, np.where((age >= 50) & (u < 0.5), 4, 1)))
    parent_status = np.where(u < 0.6, 4, 2)
    marital = np.select(
        [is_head, relationship == 2, relationship == 4, relationship == 6, np.isin(relationship, (3, 5))],
        [head_status, 2, 2, parent_status, child_status],
        default=relative_status,
    ).astype(np.int16)

    # --- schooling -------------------------------------------------------------------------
    band = np.select([age <= 12, age <= 15, age <= 18], [0, 1, 2], default=3)
    base_in_school = np.asarray(m.in_school_prob)[band]
    in_school = (age >= 7) & (age <= 24) & (rng.random(total) < prob_probit(base_in_school, m.in_school_loading, zm))
    never_base = np.where(age < 7, 1.0, m.never_school_prob + m.never_school_old_extra * (age >= 60))
    never = ~in_school & ((age < 7) | (rng.random(total) < prob_probit(never_base, -0.3, zm)))
    participation = np.where(never, 1, np.where(in_school, 2, 3)).astype(np.int16)

    cohort = m.certificate_cohort_slope * (age - 40)
    cert_done = np.minimum(ordered(rng, zm, um, m.certificate, cohort), _cert_cap(age))
    level_done = np.maximum(cert_done, 1) + (rng.random(total) < m.dropout_prob) * (cert_done >= 1)
    level_done = np.minimum(level_done, 6)
    level_now = np.select(
        [age <= 12, age <= 15, age <= 18], [1, 2, 3], default=np.where(rng.random(total) < 0.7, 5, 4)
    )
    cert_now = np.where(level_now <= 3, level_now - 1, 3)
    school_level = np.where(never, NULL_CODE, np.where(in_school, level_now, level_done)).astype(np.int16)
    certificate = np.where(never, 0, np.where(in_school, cert_now, cert_done)).astype(np.int16)

    # --- work ------------------------------------------------------------------------------
    wp = m.work_prob
    prime = (age >= 25) & (age <= 59)
    p_work = np.select(
        [age < 15, in_school, prime & (sex == 1), prime, age < 25],
        [0.0, wp.student, wp.male_prime, wp.female_prime, wp.young],
        default=wp.old,
    )
    disability_p = np.where(age >= 60, m.disability_prob_old, m.disability_prob)
    disability = rng.random(total) < disability_p
    p_work = np.where(disability, 0.4 * p_work, p_work)
    works = rng.random(total) < p_work

    agri_base = np.where(um, m.agriculture.urban, m.agriculture.rural)
    agri = rng.random(total) < prob_probit(agri_base, m.agriculture.loading, zm)
    industry = np.where(agri, 1, choice(rng, total, m.nonagri_industry_codes, m.nonagri_industry_pmf))
    edu_std = (certificate - 2.5) / 1.5
    employee = rng.random(total) < prob_probit(m.employee_prob, 1.0, m.employee_loading * zm + m.employee_education_loading * edu_std)
    status_agri = choice(rng, total, list(range(1, 8)), m.agri_status_pmf)
    status_other = choice(rng, total, m.nonagri_other_codes, m.nonagri_other_pmf)
    status = np.where(agri, status_agri, np.where(employee, 4, status_other))
    formal = works & (status == 4) & (rng.random(total) < prob_probit(m.formal_prob, m.formal_loading, zm))
    industry = np.where(works, industry, NULL_CODE).astype(np.int16)
    status = np.where(works, status, NULL_CODE).astype(np.int16)
    self_employed = np.isin(status, (1, 2, 3))
    owns_business = rng.random(total) < np.where(self_employed, m.business_prob_self, m.business_prob_other)
    chronic = rng.random(total) < np.where(age >= 60, m.chronic_prob_old, m.chronic_prob)

    negative = _negative_list(rng, config, age, works, formal, industry, status, certificate, zm, is_head, um)

    people = {
        "fam": fam,
        "member_no": (pos + 1).astype(np.int32),
        "relationship": relationship,
        "sex": sex,
        "age": age.astype(np.int32),
        "marital_status": marital,
        "school_participation": participation,
        "school_level": school_level,
        "highest_certificate": certificate,
        "works": works,
        "industry": industry,
        "employment_status": status,
        "owns_business": owns_business,
        "disability": disability,
        "chronic_illness": chronic,
        "negative_list": negative,
    }
    family = {
        "any_formal": np.bincount(fam, weights=formal, minlength=n) > 0,
        "head_formal": formal[starts],
        "any_informal_worker": np.bincount(fam, weights=works & ~formal, minlength=n) > 0,
        "any_pensioner": np.bincount(fam, weights=negative == 4, minlength=n) > 0,
        "any_agri": np.bincount(fam, weights=industry == 1, minlength=n) > 0,
    }
    return people, family


def _negative_list(
    rng: np.random.Generator,
    config: SynthConfig,
    age: np.ndarray,
    works: np.ndarray,
    formal: np.ndarray,
    industry: np.ndarray,
    status: np.ndarray,
    certificate: np.ndarray,
    zm: np.ndarray,
    is_head: np.ndarray,
    urban: np.ndarray,
) -> np.ndarray:
    """Negative-list code per person (0 = none); the first rule that fires wins."""
    nl = config.negative_list
    total = age.shape[0]
    adult = age >= 18
    rules: list[tuple[int, np.ndarray, np.ndarray | float]] = [
        (1, formal & (industry == 12), nl.civil_servant_public_admin),
        (6, formal & (industry == 13) & (certificate >= 5), nl.certified_teacher),
        (1, formal & (industry == 13), nl.civil_servant_education),
        (10, formal & (industry == 14), nl.health_worker),
        (2, formal & np.isin(industry, _SOE_INDUSTRIES), nl.soe_employee),
        (9, status == 3, nl.company_owner),
        (8, formal & (zm > 1.0), nl.above_minimum_wage),
        (4, (age >= 58) & ~works, nl.pensioner * 2.0 * ndtr(zm)),
        (11, is_head & ~urban & adult, nl.village_official),
        (5, adult, nl.social_staff),
        (7, adult, nl.state_budget_income),
        (3, adult, nl.state_official),
        (12, adult, nl.gambling),
    ]
    code = np.zeros(total, dtype=np.int16)
    for value, eligible, prob in rules:
        fire = eligible & (code == 0) & (rng.random(total) < prob)
        code[fire] = value
    return code
