"""A cache keyed by the identity of objects, for values derived from objects that are long-lived and
handed out again and again (contract field specs, the feature builder's category dtypes, a booster's
category lists) but costly to hash or compare by value."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def per_objects(cache: dict, objects: tuple, compute: Callable[[], T], max_entries: int = 256) -> T:
    """compute(), kept in `cache` for these very objects (by identity). The objects themselves are kept,
    not only their ids, so that an id can never be reused for another object. Holds at most
    `max_entries` + 1 entries (then the cache starts over)."""
    key = tuple(map(id, objects))
    hit = cache.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], objects, strict=True)):
        return hit[1]
    value = compute()
    if len(cache) > max_entries:
        cache.clear()
    cache[key] = (objects, value)
    return value
