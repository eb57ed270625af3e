"""The pseudonymiser: keyed, stable, never the input, valid family ids, no identifier or key in errors."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from features.pseudonym import pseudonymise, pseudonymise_series
from features.schema import FAMILY_ID_PATTERN

KEY_A = "key-a-for-tests-only-0000000001"
KEY_B = "key-b-for-tests-only-0000000002"
KK = "3201012345678901"


def test_stable_for_one_key_and_different_across_keys():
    first = pseudonymise(KK, KEY_A)
    assert first == pseudonymise(KK, KEY_A) == pseudonymise(KK, SecretStr(KEY_A))
    assert first != pseudonymise(KK, KEY_B)
    assert first != pseudonymise("3201012345678902", KEY_A)
    assert re.match(FAMILY_ID_PATTERN, first) and first.startswith("K")
    assert KK not in first and first != KK


def test_whitespace_is_normalised_and_integers_are_digits():
    assert pseudonymise(" 3201 0123 4567 8901\t", KEY_A) == pseudonymise(KK, KEY_A)
    assert pseudonymise(int(KK), KEY_A) == pseudonymise(KK, KEY_A)


@settings(max_examples=200, deadline=None)
@given(identifier=st.text(min_size=1, max_size=40).filter(lambda s: "".join(s.split()) != ""))
def test_any_identifier_gives_a_valid_id_that_is_not_the_input(identifier):
    out = pseudonymise(identifier, KEY_A)
    assert out != identifier
    assert re.match(FAMILY_ID_PATTERN, out)
    assert out == pseudonymise(identifier, KEY_A)
    assert out != pseudonymise(identifier, KEY_B)


def test_empty_identifiers_refused_without_echo():
    with pytest.raises(ValueError, match="empty identifier") as exc:
        pseudonymise("   ", KEY_A)
    assert KEY_A not in str(exc.value)
    ids = pd.Series([KK, "  ", None, "3201019999999999"], dtype="string")
    with pytest.raises(ValueError, match=r"2 missing or empty identifier\(s\) at row positions \[1, 2\]") as exc:
        pseudonymise_series(ids, KEY_A)
    assert KK not in str(exc.value) and "3201019999999999" not in str(exc.value) and KEY_A not in str(exc.value)


def test_float_identifiers_and_short_keys_refused():
    with pytest.raises(TypeError, match="dtype=str"):
        pseudonymise_series(pd.Series([3.201012345678901e15]), KEY_A)
    with pytest.raises(ValueError, match="at least 16 characters") as exc:
        pseudonymise(KK, "short-key")
    assert "short-key" not in str(exc.value)


def test_series_matches_scalar_and_keeps_index():
    ids = pd.Series([KK, "3201019999999999", KK], index=[10, 11, 12])
    out = pseudonymise_series(ids, KEY_A)
    assert list(out.index) == [10, 11, 12] and out.name == "family_id"
    assert list(out) == [pseudonymise(v, KEY_A) for v in ids]
    assert out[10] == out[12] != out[11]


def test_key_from_environment(pseudonym_key, monkeypatch):
    assert pseudonymise(KK) == pseudonymise(KK, pseudonym_key)
    monkeypatch.delenv("DESIL_PSEUDONYM_KEY")
    monkeypatch.delenv("DESIL_PSEUDONYM_KEY_FILE", raising=False)
    with pytest.raises(RuntimeError, match="no pseudonymisation key"):
        pseudonymise(KK)


def test_bad_prefix_refused():
    with pytest.raises(ValueError, match="prefix"):
        pseudonymise(KK, KEY_A, prefix="K K")
    assert pseudonymise(KK, KEY_A, prefix="P").startswith("P")
