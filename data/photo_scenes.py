"""Scene composition of the synthetic house photos: a `front` view (wall + roof in a street scene) and a
`floor` view (floor plane seen at an angle), each followed by the same camera model.

Variation drawn per photo: geometry and scale of the house, viewpoint (perspective warp, tilt, flip),
background (sky, ground, neighbours, trees), occluders (vegetation, poles, fences, barrels; furniture
legs, mats, sandals, buckets), weathering and, for non-habitable dwellings, damage (holes, cracks,
sagging, roof gaps); camera: exposure, contrast, colour cast, directional light and shadow, gamma,
sensor noise, blur. JPEG compression is applied by the writer. All randomness comes from the Generator
passed in, so a photo is a pure function of (seed, index, labels).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from data.photo_textures import (
    FLOOR_PAINTERS,
    PLASTER,
    ROOF_PAINTERS,
    WALL_PAINTERS,
    pick,
    smooth_noise,
)

SKY = ((0.55, 0.72, 0.92), (0.80, 0.84, 0.88), (0.93, 0.90, 0.80), (0.65, 0.70, 0.75), (0.45, 0.60, 0.85))
GROUND = ((0.35, 0.55, 0.25), (0.50, 0.42, 0.30), (0.40, 0.40, 0.42), (0.60, 0.58, 0.52))
FOLIAGE = ((0.20, 0.45, 0.18), (0.30, 0.55, 0.20), (0.15, 0.35, 0.15), (0.40, 0.50, 0.20))
OBJECT = ((0.20, 0.30, 0.70), (0.75, 0.20, 0.20), (0.90, 0.75, 0.20), (0.25, 0.25, 0.25), (0.85, 0.85, 0.85))


def _to_image(arr: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))


def _to_array(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.float32) / 255.0


def perspective_coeffs(dst: list[tuple[float, float]], src: list[tuple[float, float]]) -> list[float]:
    """PIL PERSPECTIVE coefficients mapping output points `dst` to input points `src` (4 pairs)."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return np.linalg.solve(np.asarray(rows, dtype=np.float64), np.asarray(rhs, dtype=np.float64)).tolist()


def _textured(arr: np.ndarray, mask: Image.Image) -> Image.Image:
    """An RGBA layer: texture `arr` visible where `mask` (L) is set."""
    img = _to_image(arr).convert("RGBA")
    img.putalpha(mask)
    return img


def _crack(draw: ImageDraw.ImageDraw, rng: np.random.Generator, x: float, y: float, length: int, fill) -> None:
    points = [(x, y)]
    angle = rng.uniform(0, 2 * np.pi)
    for _ in range(length):
        angle += rng.normal(0, 0.6)
        x, y = x + 2.5 * np.cos(angle), y + 2.5 * np.sin(angle)
        points.append((x, y))
    draw.line(points, fill=fill, width=int(rng.integers(1, 3)))


def _blob(draw: ImageDraw.ImageDraw, rng: np.random.Generator, cx: float, cy: float, r: float, fill) -> None:
    """An irregular polygon around (cx, cy) with mean radius r."""
    n = int(rng.integers(6, 11))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = r * rng.uniform(0.5, 1.3, n)
    draw.polygon([(cx + rr * np.cos(a), cy + rr * np.sin(a)) for a, rr in zip(angles, radii, strict=True)],
                 fill=fill)


def _background(rng: np.random.Generator, s: int, horizon: int) -> Image.Image:
    yy = np.linspace(0, 1, s, dtype=np.float32)[:, None, None]
    top, bottom = pick(rng, SKY, 0.05), pick(rng, SKY, 0.05)
    sky = top * (1 - yy) + bottom * yy
    sky = np.broadcast_to(sky, (s, s, 3)).copy()
    sky *= (0.92 + 0.12 * smooth_noise(rng, s, s, s / 4))[..., None]  # clouds
    ground = pick(rng, GROUND, 0.05) * (0.75 + 0.35 * smooth_noise(rng, s, s, 4))[..., None]
    arr = np.where(np.arange(s)[:, None, None] >= horizon, ground, sky)
    img = _to_image(arr)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(0, 4))):  # neighbouring buildings, plain walls
        x0 = rng.uniform(-0.2, 1.0) * s
        bw, bh = rng.uniform(0.15, 0.4) * s, rng.uniform(0.15, 0.45) * s
        draw.rectangle([x0, horizon - bh, x0 + bw, horizon + 2], fill=tuple((pick(rng, PLASTER) * 200).astype(int)))
    for _ in range(int(rng.integers(0, 6))):  # distant trees
        _blob(draw, rng, rng.uniform(0, s), horizon - rng.uniform(0.05, 0.3) * s, rng.uniform(0.05, 0.15) * s,
              tuple((pick(rng, FOLIAGE) * 255).astype(int)))
    return img


def _damage_wall(rng: np.random.Generator, mask_draw: ImageDraw.ImageDraw, tex_draw: ImageDraw.ImageDraw,
                 box: tuple[float, float, float, float], severe: bool) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if severe:
        for _ in range(int(rng.integers(1, 4))):  # holes: dark gaps into the house
            _blob(tex_draw, rng, rng.uniform(x0, x1), rng.uniform(y0, y1), rng.uniform(0.05, 0.14) * min(w, h) + 2,
                  (int(rng.integers(10, 45)),) * 3)
        for _ in range(int(rng.integers(2, 6))):
            _crack(tex_draw, rng, rng.uniform(x0, x1), rng.uniform(y0, y1), int(rng.integers(6, 18)), (30, 25, 20))
        for _ in range(int(rng.integers(0, 3))):  # broken-off edge pieces
            _blob(mask_draw, rng, rng.choice([x0, x1]), rng.uniform(y0, y1), rng.uniform(0.05, 0.12) * h + 2, 0)


def _house_layer(rng: np.random.Generator, s: int, horizon: int, wall: str, roof: str,
                 habitable: bool) -> Image.Image:
    """The house (roof over wall, door, windows, damage) on a transparent s*s layer."""
    unit = rng.uniform(0.04, 0.08) * s
    ww = rng.uniform(0.5, 0.92) * s
    cx = rng.uniform(0.35, 0.65) * s
    wh = rng.uniform(0.28, 0.45) * s
    bottom = horizon + rng.uniform(0.02, 0.1) * s
    x0, x1, y1 = cx - ww / 2, cx + ww / 2, bottom
    y0 = y1 - wh
    rh = rng.uniform(0.14, 0.3) * s
    overhang = rng.uniform(0.02, 0.08) * s
    sag = 0.0 if habitable else rng.uniform(0.0, 0.12) * s

    wall_tex = WALL_PAINTERS[wall](rng, s, s, unit)
    wall_img = _to_image(wall_tex)
    wall_mask = Image.new("L", (s, s), 0)
    md = ImageDraw.Draw(wall_mask)
    md.rectangle([x0, y0, x1, y1], fill=255)
    wd = ImageDraw.Draw(wall_img)
    # door and windows (frames drawn in a contrasting colour)
    door_w = rng.uniform(0.12, 0.2) * ww
    dx = rng.uniform(x0 + 0.1 * ww, x1 - 0.1 * ww - door_w)
    frame = tuple((pick(rng, PLASTER) * 160).astype(int))
    wd.rectangle([dx, y1 - wh * rng.uniform(0.6, 0.8), dx + door_w, y1], fill=(40, 30, 25), outline=frame, width=2)
    for _ in range(int(rng.integers(0, 3))):
        win = rng.uniform(0.1, 0.18) * ww
        wx = rng.uniform(x0 + 0.05 * ww, x1 - 0.05 * ww - win)
        if dx - win < wx < dx + door_w:
            continue
        wy = y0 + wh * rng.uniform(0.2, 0.35)
        glass = tuple(int(v) for v in rng.integers(20, 110, 3))
        wd.rectangle([wx, wy, wx + win, wy + win * rng.uniform(0.7, 1.2)], fill=glass, outline=frame, width=2)
    _damage_wall(rng, md, wd, (x0, y0, x1, y1), severe=not habitable)
    layer = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    wall_rgba = wall_img.convert("RGBA")
    wall_rgba.putalpha(wall_mask)
    layer.alpha_composite(wall_rgba)

    roof_tex = ROOF_PAINTERS[roof](rng, s, s, unit)
    roof_mask = Image.new("L", (s, s), 0)
    rd = ImageDraw.Draw(roof_mask)
    shape = rng.random()
    left, right = x0 - overhang, x1 + overhang
    eave = y0 + rng.uniform(0.0, 0.04) * s
    if shape < 0.45:  # gable seen from the front
        apex = (cx + rng.uniform(-0.1, 0.1) * ww, y0 - rh + sag)
        rd.polygon([(left, eave), apex, (right, eave + sag)], fill=255)
    elif shape < 0.85:  # hip/long side: trapezoid
        inset = rng.uniform(0.1, 0.3) * ww
        rd.polygon([(left, eave), (left + inset, y0 - rh + sag), (right - inset, y0 - rh), (right, eave + sag)],
                   fill=255)
    else:  # lean-to
        rd.polygon([(left, eave), (left, y0 - rh), (right, y0 - rh * 0.4 + sag), (right, eave)], fill=255)
    if not habitable:
        roof_img = _to_image(roof_tex)
        td = ImageDraw.Draw(roof_img)
        for _ in range(int(rng.integers(1, 4))):  # gaps in the roof: sky or darkness shows through
            fill = (int(rng.integers(10, 40)),) * 3 if rng.random() < 0.5 else (180, 200, 220)
            _blob(td, rng, rng.uniform(left, right), rng.uniform(y0 - rh * 0.7, eave), rng.uniform(0.03, 0.08) * s,
                  fill)
        roof_tex = _to_array(roof_img)
    roof_rgba = _textured(roof_tex, roof_mask)
    layer.alpha_composite(roof_rgba)
    if not habitable and rng.random() < 0.6:  # the whole structure leans
        layer = layer.rotate(rng.uniform(3, 8) * rng.choice([-1, 1]), resample=Image.BILINEAR,
                             center=(cx, y1))
    return layer


def _weather(rng: np.random.Generator, arr: np.ndarray, severe: bool) -> np.ndarray:
    """Streaks of dirt running down and a darker band near the ground."""
    s = arr.shape[0]
    amount = rng.uniform(0.15, 0.45) if severe else rng.uniform(0.0, 0.15)
    streak = np.asarray(Image.fromarray((rng.random((max(2, s // 10), s)) * 255).astype(np.uint8)).resize(
        (s, s), Image.BICUBIC), dtype=np.float32) / 255.0
    return arr * (1 - amount * streak[..., None] ** 2)


def _street_occluders(rng: np.random.Generator, img: Image.Image, horizon: int) -> None:
    s = img.size[0]
    draw = ImageDraw.Draw(img)
    if rng.random() < 0.5:  # vegetation at the bottom or sides
        for _ in range(int(rng.integers(1, 5))):
            _blob(draw, rng, rng.uniform(0, s), rng.uniform(horizon, s), rng.uniform(0.05, 0.14) * s,
                  tuple((pick(rng, FOLIAGE, 0.07) * 255).astype(int)))
    if rng.random() < 0.3:  # utility pole with wires
        px = rng.uniform(0.05, 0.95) * s
        draw.line([(px, 0), (px + rng.uniform(-3, 3), s)], fill=(60, 55, 50), width=int(rng.integers(2, 5)))
        for _ in range(int(rng.integers(1, 3))):
            draw.line([(0, rng.uniform(0, 0.2) * s), (s, rng.uniform(0, 0.2) * s)], fill=(30, 30, 30), width=1)
    if rng.random() < 0.3:  # low fence
        top = rng.uniform(0.8, 0.92) * s
        colour = tuple((pick(rng, OBJECT) * 255).astype(int))
        step = rng.uniform(4, 8)
        for x in np.arange(rng.uniform(0, step), s, step):
            draw.line([(x, top), (x, s)], fill=colour, width=2)
        draw.line([(0, top + 3), (s, top + 3)], fill=colour, width=2)
    if rng.random() < 0.25:  # barrel / bin
        bx, bw = rng.uniform(0, 0.9) * s, rng.uniform(0.06, 0.12) * s
        draw.rectangle([bx, s - bw * 1.5 - rng.uniform(0, 0.05) * s, bx + bw, s],
                       fill=tuple((pick(rng, OBJECT) * 255).astype(int)))


def _camera(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """Exposure, contrast, colour cast, directional light, shadow, gamma, noise and blur."""
    s = img.size[0]
    arr = _to_array(img)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) / s
    angle = rng.uniform(0, 2 * np.pi)
    light = 1 + rng.uniform(0, 0.35) * ((xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle))
    arr = arr * light[..., None]
    if rng.random() < 0.35:  # a cast shadow across part of the scene
        k, c = rng.uniform(-1.5, 1.5), rng.uniform(0.2, 0.8)
        arr = np.where((yy > k * (xx - 0.5) + c)[..., None], arr * rng.uniform(0.55, 0.8), arr)
    cast = rng.uniform(0.85, 1.15, 3).astype(np.float32)
    arr = arr * cast * rng.uniform(0.65, 1.3)
    contrast = rng.uniform(0.75, 1.25)
    arr = (arr - arr.mean()) * contrast + arr.mean()
    arr = np.clip(arr, 0, 1) ** rng.uniform(0.8, 1.25)
    arr = arr + rng.normal(0, rng.uniform(0.0, 0.04), arr.shape).astype(np.float32)
    out = _to_image(arr)
    radius = rng.uniform(0, 1.1)
    if radius > 0.3:
        out = out.filter(ImageFilter.GaussianBlur(radius))
    return out


def render_front(rng: np.random.Generator, size: int, wall: str, roof: str, habitable: bool) -> Image.Image:
    """A front photo (RGB, size x size) of a house with wall class `wall` and roof class `roof`."""
    horizon = int(rng.uniform(0.55, 0.8) * size)
    scene = _background(rng, size, horizon).convert("RGBA")
    house = _house_layer(rng, size, horizon, wall, roof, habitable)
    # viewpoint: jitter the four corners of the house layer (perspective), then scale about the centre
    j = 0.12 * size
    src = [(0, 0), (size, 0), (size, size), (0, size)]
    dst = [(x + rng.uniform(-j, j), y + rng.uniform(-j, j) * 0.6) for x, y in src]
    house = house.transform((size, size), Image.PERSPECTIVE, perspective_coeffs(dst, src), Image.BILINEAR)
    scene.alpha_composite(house)
    arr = _weather(rng, _to_array(scene.convert("RGB")), severe=not habitable)
    img = _to_image(arr)
    _street_occluders(rng, img, horizon)
    if rng.random() < 0.5:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    return _camera(rng, img)


def render_floor(rng: np.random.Generator, size: int, floor: str) -> Image.Image:
    """A floor photo (RGB, size x size): floor class `floor` seen at an angle, with objects on it."""
    big = 2 * size
    unit = rng.uniform(0.03, 0.06) * big
    tex = _to_image(FLOOR_PAINTERS[floor](rng, big, big, unit))
    if floor == "ceramic" or rng.random() < 0.25:  # glossy highlight (polished cement and tiles shine too)
        arr = _to_array(tex)
        yy, xx = np.mgrid[0:big, 0:big].astype(np.float32) / big
        cy, cx = rng.uniform(0.2, 0.8, 2)
        glow = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / rng.uniform(0.005, 0.03))
        tex = _to_image(arr + rng.uniform(0.1, 0.35) * glow[..., None])
    far = rng.uniform(0.0, 0.3) * size  # where the floor meets the back wall
    spread = rng.uniform(0.15, 0.45) * size
    skew = rng.uniform(-0.15, 0.15) * size
    dst = [(-spread + skew, far), (size + spread + skew, far), (size * 1.1, size), (-size * 0.1, size)]
    src = [(0, 0), (big, 0), (big, big), (0, big)]
    wall = pick(rng, PLASTER, 0.08) * (0.8 + 0.25 * smooth_noise(rng, size, size, size / 3))[..., None]
    img = _to_image(wall)
    floor_img = tex.transform((size, size), Image.PERSPECTIVE, perspective_coeffs(dst, src), Image.BILINEAR)
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).polygon(dst, fill=255)
    img.paste(floor_img, (0, 0), mask)
    draw = ImageDraw.Draw(img)
    if far > 2:  # skirting line
        draw.line([(0, far), (size, far)], fill=tuple((pick(rng, PLASTER) * 120).astype(int)), width=2)
    for _ in range(int(rng.integers(0, 3))):  # furniture legs
        lx = rng.uniform(0, size)
        draw.rectangle([lx, 0, lx + rng.uniform(2, 6), rng.uniform(far + 5, size * 0.8)], fill=(50, 35, 25))
    if rng.random() < 0.3:  # mat / rug
        mx, my = rng.uniform(0, 0.7) * size, rng.uniform(0.4, 0.8) * size
        colour = tuple((pick(rng, OBJECT) * 255).astype(int))
        draw.rectangle([mx, my, mx + rng.uniform(0.15, 0.3) * size, my + rng.uniform(0.08, 0.15) * size], fill=colour)
    for _ in range(int(rng.integers(0, 3))):  # sandals, bucket
        ox, oy, r = rng.uniform(0, size), rng.uniform(far + 5, size), rng.uniform(0.02, 0.06) * size
        draw.ellipse([ox - r, oy - r * 0.6, ox + r, oy + r * 0.6], fill=tuple((pick(rng, OBJECT) * 255).astype(int)))
    if rng.random() < 0.5:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    return _camera(rng, img)
