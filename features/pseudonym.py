"""Pseudonymisation: real identifiers (family-card number, NIK) -> `family_id`, by a keyed hash.

`pseudonymise(identifier, key)` = prefix + the first 20 base32 characters of
HMAC-SHA256(key, normalised identifier): 100 bits, so 93 M families collide with probability ~1e-14;
the result matches `schema.FAMILY_ID_PATTERN`. The same key gives the same id for the same identifier
(stable across runs and machines); without the key the id cannot be recomputed from a guessed
identifier (a plain hash of a 16-digit KK number could be brute-forced).

Normalisation: all whitespace is removed ("3201 0123 4567 8901" == "3201012345678901"). Empty or
missing identifiers are refused; error messages give positions, never identifier values. The key comes
from `config.project_config().pseudonym_key()` (env var or key file) when not passed; it is never
logged, printed or put into an exception.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pandas as pd
from pydantic import SecretStr

from features.schema import FAMILY_ID_PATTERN

DIGEST_CHARS = 20  # base32 characters kept: 100 bits
MIN_KEY_CHARS = 16
_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_-]{0,8}$")
_FAMILY_ID = re.compile(FAMILY_ID_PATTERN)


def _key_bytes(key: SecretStr | str | None) -> bytes:
    if key is None:
        from config import project_config  # config reads env/key file; imported lazily

        key = project_config().pseudonym_key()
    secret = key.get_secret_value() if isinstance(key, SecretStr) else key
    if not isinstance(secret, str) or len(secret) < MIN_KEY_CHARS:
        raise ValueError(f"the pseudonymisation key must be a string of at least {MIN_KEY_CHARS} characters")
    return secret.encode("utf-8")


def _check_prefix(prefix: str) -> None:
    if not _PREFIX_PATTERN.match(prefix) or not _FAMILY_ID.match(prefix + "A" * DIGEST_CHARS):
        raise ValueError(f"prefix {prefix!r} must be 0-8 characters of A-Z, a-z, 0-9, '_' or '-'")


def _digest(mac: hmac.HMAC, normalised: str) -> str:
    h = mac.copy()
    h.update(normalised.encode("utf-8"))
    return base64.b32encode(h.digest()[:15]).decode("ascii")[:DIGEST_CHARS]


def normalise_identifier(identifier: str) -> str:
    """The identifier with all whitespace removed."""
    return "".join(str(identifier).split())


def pseudonymise(identifier: str | int, key: SecretStr | str | None = None, prefix: str = "K") -> str:
    """The pseudonymous family id of one identifier (see module docstring). Raises ValueError on an
    empty identifier (the message does not contain it) or a key shorter than 16 characters."""
    _check_prefix(prefix)
    if isinstance(identifier, float) or identifier is None or isinstance(identifier, bool):
        raise TypeError("identifier must be a string (or an integer), not a float, bool or None")
    normalised = normalise_identifier(identifier)
    if not normalised:
        raise ValueError("empty identifier (nothing left after removing whitespace); cannot pseudonymise it")
    mac = hmac.new(_key_bytes(key), digestmod=hashlib.sha256)
    return prefix + _digest(mac, normalised)


def pseudonymise_series(identifiers: pd.Series, key: SecretStr | str | None = None,
                        prefix: str = "K") -> pd.Series:
    """Pseudonymise a column of identifiers (same index, pandas string dtype).

    Refuses float columns (a 16-digit number read as float has lost digits: read the file with
    dtype=str) and missing/empty identifiers (the error names their positions, not their values).
    """
    _check_prefix(prefix)
    if pd.api.types.is_float_dtype(identifiers.dtype) or pd.api.types.is_bool_dtype(identifiers.dtype):
        raise TypeError(f"identifiers have dtype {identifiers.dtype}; read them as strings (dtype=str) so that "
                        "no digit is lost")
    mac = hmac.new(_key_bytes(key), digestmod=hashlib.sha256)
    text = identifiers.astype("string").str.replace(r"\s+", "", regex=True)
    empty = (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
    if empty.any():
        positions = [int(i) for i in empty.nonzero()[0][:10]]
        raise ValueError(f"{int(empty.sum())} missing or empty identifier(s) at row positions {positions}"
                         f"{' ...' if empty.sum() > 10 else ''}; every row needs an identifier")
    hashed = [prefix + _digest(mac, value) for value in text.to_numpy(dtype=object)]
    return pd.Series(hashed, index=identifiers.index, dtype="string", name="family_id")
