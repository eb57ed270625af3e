"""Procedural material textures for the synthetic house photos (one painter per merged class).

Every painter takes a numpy Generator, a height and width in pixels and an element size `unit`
(pixels per brick, plank, tile, corrugation ...) and returns an (h, w, 3) float32 RGB array in [0, 1].
Colours are drawn from overlapping palettes (painted wood, grey clay tiles, red cement ...) so that a
class is told by its structure (joints, grain, weave, corrugation, grout), not by one colour statistic.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

Rgb = tuple[float, float, float]
Painter = Callable[[np.random.Generator, int, int, float], np.ndarray]

PLASTER: tuple[Rgb, ...] = ((0.93, 0.92, 0.88), (0.95, 0.88, 0.70), (0.72, 0.85, 0.90), (0.75, 0.88, 0.72),
                            (0.93, 0.75, 0.78), (0.70, 0.70, 0.70), (0.95, 0.93, 0.60), (0.85, 0.78, 0.68),
                            (0.55, 0.62, 0.75))
BRICK: tuple[Rgb, ...] = ((0.70, 0.32, 0.20), (0.62, 0.28, 0.18), (0.78, 0.45, 0.30), (0.55, 0.35, 0.28))
WOOD: tuple[Rgb, ...] = ((0.55, 0.36, 0.20), (0.45, 0.28, 0.15), (0.68, 0.50, 0.32), (0.36, 0.24, 0.16),
                         (0.60, 0.48, 0.38))
PAINT: tuple[Rgb, ...] = ((0.30, 0.55, 0.45), (0.35, 0.45, 0.70), (0.85, 0.80, 0.65), (0.70, 0.30, 0.25),
                          (0.90, 0.90, 0.88))
BAMBOO: tuple[Rgb, ...] = ((0.80, 0.70, 0.45), (0.72, 0.62, 0.40), (0.60, 0.55, 0.42), (0.85, 0.78, 0.55),
                           (0.55, 0.48, 0.35))
GREY: tuple[Rgb, ...] = ((0.72, 0.72, 0.70), (0.60, 0.61, 0.60), (0.80, 0.80, 0.78), (0.52, 0.54, 0.52),
                         (0.68, 0.66, 0.60))
TERRACOTTA: tuple[Rgb, ...] = ((0.72, 0.33, 0.18), (0.62, 0.28, 0.16), (0.80, 0.45, 0.25), (0.50, 0.25, 0.18),
                               (0.45, 0.42, 0.42))
METAL: tuple[Rgb, ...] = ((0.70, 0.72, 0.74), (0.60, 0.62, 0.66), (0.78, 0.78, 0.80), (0.45, 0.50, 0.58),
                          (0.62, 0.30, 0.25))
RUST: Rgb = (0.55, 0.30, 0.14)
THATCH: tuple[Rgb, ...] = ((0.75, 0.65, 0.40), (0.60, 0.50, 0.32), (0.48, 0.42, 0.32), (0.40, 0.36, 0.28),
                           (0.66, 0.58, 0.45))
TILE_FLOOR: tuple[Rgb, ...] = ((0.94, 0.94, 0.92), (0.90, 0.86, 0.76), (0.75, 0.75, 0.74), (0.80, 0.70, 0.58),
                               (0.55, 0.42, 0.32), (0.62, 0.66, 0.70))
CEMENT: tuple[Rgb, ...] = ((0.62, 0.62, 0.60), (0.52, 0.53, 0.52), (0.70, 0.68, 0.64), (0.60, 0.30, 0.25),
                           (0.35, 0.50, 0.45), (0.48, 0.44, 0.40))
EARTH: tuple[Rgb, ...] = ((0.48, 0.36, 0.24), (0.40, 0.30, 0.22), (0.58, 0.46, 0.32), (0.35, 0.32, 0.28),
                          (0.60, 0.52, 0.40))


def pick(rng: np.random.Generator, palette: tuple[Rgb, ...], jitter: float = 0.06) -> np.ndarray:
    """One palette colour with a per-channel jitter (RGB float32 in [0, 1])."""
    base = np.asarray(palette[rng.integers(len(palette))], dtype=np.float32)
    return np.clip(base + rng.normal(0, jitter, 3).astype(np.float32), 0, 1)


def smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Value noise in [0, 1] with features about `cell` pixels wide: (h, w) float32."""
    gh, gw = max(2, int(h / max(cell, 1)) + 2), max(2, int(w / max(cell, 1)) + 2)
    grid = (rng.random((gh, gw)) * 255).astype(np.uint8)
    out = Image.fromarray(grid).resize((w, h), Image.BICUBIC)
    return np.asarray(out, dtype=np.float32) / 255.0


def shade(colour: np.ndarray, tone: np.ndarray) -> np.ndarray:
    """Broadcast an RGB colour over an (h, w) tone map: (h, w, 3)."""
    return tone[..., None] * colour[None, None, :]


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return yy, xx


# ------------------------------------------------------------------------------------------ walls
def wall_masonry(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    """Rendered plaster (mottled, flat) or exposed brick courses with staggered joints."""
    yy, xx = _grid(h, w)
    mottle = 0.9 + 0.12 * smooth_noise(rng, h, w, unit * 3) + 0.04 * smooth_noise(rng, h, w, 2)
    if rng.random() < 0.35:
        bh = max(3.0, unit * 0.6)
        bw = bh * rng.uniform(2.0, 3.0)
        row = np.floor(yy / bh)
        xs = xx + (row % 2) * bw / 2
        joint = ((yy % bh) < 1.0) | ((xs % bw) < 1.0)
        brick_tone = 0.85 + 0.3 * rng.random((int(h / bh) + 2, int(w / bw) + 3)).astype(np.float32)
        tone = brick_tone[row.astype(int), np.floor(xs / bw).astype(int)]
        img = shade(pick(rng, BRICK), tone * mottle)
        img[joint] = pick(rng, GREY, 0.05)
        return np.clip(img, 0, 1)
    img = shade(pick(rng, PLASTER), mottle)
    if rng.random() < 0.5:  # darker plinth band at the bottom of the wall
        band = yy > h * rng.uniform(0.75, 0.9)
        img[band] *= rng.uniform(0.55, 0.8)
    return np.clip(img, 0, 1)


def wood_planks(rng: np.random.Generator, h: int, w: int, unit: float, vertical: bool | None = None) -> np.ndarray:
    """Planks `unit` pixels wide with per-plank tone, warped grain and dark gaps; sometimes painted."""
    yy, xx = _grid(h, w)
    if vertical is None:
        vertical = rng.random() < 0.3
    across, along = (xx, yy) if vertical else (yy, xx)
    pw = max(3.0, unit * rng.uniform(0.6, 1.0))
    idx = np.floor(across / pw).astype(int)
    tones = 0.8 + 0.35 * rng.random(idx.max() + 2).astype(np.float32)
    warp = smooth_noise(rng, h, w, unit * 2) * rng.uniform(2, 6)
    grain = 0.5 + 0.5 * np.sin((across + warp) * rng.uniform(1.2, 2.2) + along * 0.02)
    tone = tones[idx] * (0.85 + 0.2 * grain)
    colour = pick(rng, PAINT) if rng.random() < 0.3 else pick(rng, WOOD)
    img = shade(colour, tone)
    gap = (across % pw) < rng.uniform(0.8, 1.6)
    img[gap] *= 0.35
    if rng.random() < 0.4:  # butt joints along the planks
        seg = pw * rng.uniform(4, 9)
        joints = ((along + idx * seg * 0.37) % seg) < 1.0
        img[joints] *= 0.5
    return np.clip(img, 0, 1)


def wall_wood(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    return wood_planks(rng, h, w, unit)


def bamboo_weave(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    """Woven bamboo strips (anyaman): cells alternate horizontal/vertical fine strands, often diagonal."""
    yy, xx = _grid(h, w)
    if rng.random() < 0.6:  # diagonal weave
        xx, yy = (xx + yy) * 0.7071, (xx - yy) * 0.7071
    cell = max(3.0, unit * rng.uniform(0.5, 0.8))
    ci, cj = np.floor(yy / cell), np.floor(xx / cell)
    horizontal = ((ci + cj) % 2) == 0
    strands = np.where(horizontal, np.sin(yy * np.pi * 3 / cell), np.sin(xx * np.pi * 3 / cell))
    edge = np.minimum(yy % cell, xx % cell) < 0.8
    tone = 0.8 + 0.18 * strands + 0.1 * horizontal
    tone = np.where(edge, 0.5, tone) * (0.9 + 0.15 * smooth_noise(rng, *yy.shape, unit * 3))
    return np.clip(shade(pick(rng, BAMBOO, 0.08), tone.astype(np.float32)), 0, 1)


def bamboo_poles(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    """Vertical bamboo poles: cylinder shading, dark seams and nodes every few units."""
    yy, xx = _grid(h, w)
    pw = max(3.0, unit * rng.uniform(0.5, 0.8))
    phase = (xx % pw) / pw
    idx = np.floor(xx / pw).astype(int)
    offsets = rng.random(idx.max() + 2).astype(np.float32) * pw * 6
    cyl = 0.6 + 0.5 * np.sin(phase * np.pi)
    node_gap = pw * rng.uniform(4, 7)
    node = ((yy + offsets[idx]) % node_gap) < 1.2
    tone = np.where(node, cyl * 0.55, cyl)
    return np.clip(shade(pick(rng, BAMBOO, 0.08), tone.astype(np.float32)), 0, 1)


def wall_bamboo(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    return bamboo_weave(rng, h, w, unit) if rng.random() < 0.7 else bamboo_poles(rng, h, w, unit)


# ------------------------------------------------------------------------------------------ roofs
def roof_concrete_asbestos(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    """Grey flat slab with seams, or wide low-contrast asbestos waves; moss and stains."""
    yy, xx = _grid(h, w)
    tone = 0.88 + 0.14 * smooth_noise(rng, h, w, unit * 2)
    if rng.random() < 0.6:  # asbestos sheets: broad, gentle waves + sheet laps
        period = unit * rng.uniform(1.6, 2.6)
        tone = tone * (0.93 + 0.07 * np.sin(xx * 2 * np.pi / period))
        lap = (yy % (unit * rng.uniform(4, 8))) < 1.2
        tone = np.where(lap, tone * 0.75, tone)
    else:  # concrete slab
        seam = (xx % (unit * rng.uniform(5, 10))) < 1.0
        tone = np.where(seam, tone * 0.7, tone)
    img = shade(pick(rng, GREY), tone.astype(np.float32))
    moss = smooth_noise(rng, h, w, unit * 2) > rng.uniform(0.65, 0.95)
    img[moss] = img[moss] * 0.5 + np.array([0.18, 0.25, 0.12], dtype=np.float32)
    return np.clip(img, 0, 1)


def roof_clay_tile(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    """Rows of overlapping tiles: scalloped lower edges, per-tile tone, dark shadow under each row."""
    yy, xx = _grid(h, w)
    th = max(3.0, unit * rng.uniform(0.6, 0.9))
    tw = th * rng.uniform(0.9, 1.4)
    row = np.floor(yy / th)
    xs = xx + (row % 2) * tw / 2
    u = (xs % tw) / tw
    v = (yy % th) / th
    curve = 0.75 + 0.35 * np.sin(u * np.pi)  # the round of each tile
    shadow = v > (0.78 + 0.15 * np.sin(u * np.pi))
    tones = 0.85 + 0.3 * rng.random((int(h / th) + 2, int(w / tw) + 3)).astype(np.float32)
    tone = tones[row.astype(int), np.floor(xs / tw).astype(int)] * curve
    tone = np.where(shadow, tone * 0.45, tone)
    return np.clip(shade(pick(rng, TERRACOTTA), tone.astype(np.float32)), 0, 1)


def roof_zinc(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    """Corrugated metal: narrow high-contrast ridges with specular lines, sheet laps, rust patches."""
    yy, xx = _grid(h, w)
    period = max(2.5, unit * rng.uniform(0.35, 0.6))
    ridge = np.sin(xx * 2 * np.pi / period)
    tone = 0.75 + 0.3 * ridge + 0.25 * (ridge > 0.85)
    sheet = unit * rng.uniform(4, 9)
    lap = (yy % sheet) < 1.0
    tone = np.where(lap, tone * 0.6, tone) * (0.92 + 0.12 * smooth_noise(rng, h, w, unit * 3))
    img = shade(pick(rng, METAL), tone.astype(np.float32))
    rust_level = rng.uniform(0.4, 1.05)
    rust = smooth_noise(rng, h, w, unit * 1.5) > rust_level
    img[rust] = img[rust] * 0.3 + np.asarray(RUST, dtype=np.float32) * 0.8 * tone[rust][:, None]
    return np.clip(img, 0, 1)


def roof_thatch_wood(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    """Thatch/palm fibre (fine sloping streaks in ragged layers) or wooden shingles."""
    yy, xx = _grid(h, w)
    if rng.random() < 0.65:
        streaks = smooth_noise(rng, h, w, 3)  # ragged lower edge of each layer
        # noise stretched vertically so that fibres run down the slope
        fib = np.asarray(Image.fromarray((rng.random((max(2, h // 6), w)) * 255).astype(np.uint8)).resize(
            (w, h), Image.BICUBIC), dtype=np.float32) / 255.0
        layer = unit * rng.uniform(1.0, 1.8)
        ragged = (yy + 3 * streaks) % layer
        tone = 0.65 + 0.45 * fib - 0.25 * (ragged > layer * 0.85)
        return np.clip(shade(pick(rng, THATCH, 0.07), tone.astype(np.float32)), 0, 1)
    sh = max(3.0, unit * rng.uniform(0.7, 1.0))
    sw = sh * rng.uniform(0.5, 0.8)
    row = np.floor(yy / sh)
    xs = xx + (row % 2) * sw / 2 + (row % 3) * 0.3
    tones = 0.75 + 0.4 * rng.random((int(h / sh) + 2, int(w / sw) + 3)).astype(np.float32)
    tone = tones[row.astype(int), np.floor(xs / sw).astype(int)]
    tone = np.where(((yy % sh) > sh - 1.2) | ((xs % sw) < 0.9), tone * 0.4, tone)
    return np.clip(shade(pick(rng, WOOD, 0.08), tone.astype(np.float32)), 0, 1)


# ------------------------------------------------------------------------------------------ floors
def floor_ceramic(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    """Square tiles with grout lines; plain, two-colour checker or marbled; per-tile tone."""
    yy, xx = _grid(h, w)
    ts = max(6.0, unit * rng.uniform(1.5, 3.0))
    ti, tj = np.floor(yy / ts).astype(int), np.floor(xx / ts).astype(int)
    tones = 0.93 + 0.08 * rng.random((ti.max() + 2, tj.max() + 2)).astype(np.float32)
    base, other = pick(rng, TILE_FLOOR, 0.04), pick(rng, TILE_FLOOR, 0.04)
    img = shade(base, tones[ti, tj])
    style = rng.random()
    if style < 0.25:
        checker = ((ti + tj) % 2) == 1
        img[checker] = shade(other, tones[ti, tj])[checker]
    elif style < 0.5:  # marble veins
        veins = np.abs(np.sin((xx * 0.05 + yy * 0.03) * 6 + smooth_noise(rng, h, w, unit * 2) * 9)) < 0.08
        img[veins] *= 0.8
    grout_w = rng.uniform(0.8, 1.8)
    grout = ((yy % ts) < grout_w) | ((xx % ts) < grout_w)
    img[grout] = pick(rng, GREY, 0.08) * rng.uniform(0.6, 1.1)
    return np.clip(img, 0, 1)


def floor_cement(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    """Smooth screed (plain, red or green polished cement) with trowel swirls, stains and cracks."""
    yy, xx = _grid(h, w)
    tone = 0.86 + 0.16 * smooth_noise(rng, h, w, unit * 4) + 0.05 * smooth_noise(rng, h, w, unit * 0.7)
    swirl = np.sin((xx * 0.12 + yy * 0.07) + smooth_noise(rng, h, w, unit * 3) * 8)
    tone = tone + 0.03 * swirl
    img = shade(pick(rng, CEMENT), tone.astype(np.float32))
    for _ in range(rng.integers(0, 4)):  # cracks: jagged dark random walks
        y, x = rng.uniform(0, h), rng.uniform(0, w)
        angle = rng.uniform(0, 2 * np.pi)
        for _ in range(int(rng.integers(10, 40))):
            angle += rng.normal(0, 0.5)
            y, x = y + np.sin(angle) * 2, x + np.cos(angle) * 2
            iy, ix = int(y), int(x)
            if 0 <= iy < h and 0 <= ix < w:
                img[iy, ix] *= 0.45
    return np.clip(img, 0, 1)


def floor_wood(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    """Wooden planks or thin bamboo slats (both in the 'wood' class)."""
    if rng.random() < 0.3:
        return bamboo_poles(rng, h, w, unit * 0.7)
    return wood_planks(rng, h, w, unit * 1.3, vertical=bool(rng.random() < 0.5))


def floor_earth(rng: np.random.Generator, h: int, w: int, unit: float) -> np.ndarray:
    """Packed earth: blotchy tone, coarse grain, pebbles, no straight lines."""
    tone = (0.75 + 0.3 * smooth_noise(rng, h, w, unit * 3) + 0.15 * smooth_noise(rng, h, w, unit * 0.8)
            + 0.12 * rng.random((h, w)).astype(np.float32))
    img = shade(pick(rng, EARTH, 0.07), tone.astype(np.float32))
    n = int(h * w / 400 * rng.uniform(0.3, 1.5))
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    img[ys, xs] = img[ys, xs] * 0.5 + rng.uniform(0.2, 0.5)
    return np.clip(img, 0, 1)


WALL_PAINTERS: dict[str, Painter] = {"masonry": wall_masonry, "wood": wall_wood, "bamboo": wall_bamboo}
ROOF_PAINTERS: dict[str, Painter] = {"concrete_asbestos": roof_concrete_asbestos, "clay_tile": roof_clay_tile,
                                     "zinc": roof_zinc, "thatch_wood": roof_thatch_wood}
FLOOR_PAINTERS: dict[str, Painter] = {"ceramic": floor_ceramic, "cement": floor_cement, "wood": floor_wood,
                                      "earth": floor_earth}
