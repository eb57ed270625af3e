"""Synthetic house photos, the manifest, photo features and contradiction flags (real files throughout)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from data.photos import read_manifest, read_truth, render_photos
from features.photo_features import (
    HEAD_CLASSES,
    PHOTO_FEATURE_COLUMNS,
    material_class,
    photo_features_from_predictions,
    prob_column,
)
from features.schema import FLOOR_CLASSES, ROOF_CLASSES, WALL_CLASSES
from models.photo_flags import contradiction_flags, flag_quality


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((folder / "images").iterdir())}


@pytest.fixture(scope="module")
def rendered(small_population_dir, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    out = tmp_path_factory.mktemp("photos")
    manifest = render_photos(small_population_dir, out, share=0.01, seed=11, size=64, workers=2, progress=False)
    return out, manifest


def test_photos_show_true_materials_of_the_chosen_families(rendered, small_population_dir):
    out, manifest = rendered
    truth = read_truth(small_population_dir).set_index("family_id")
    assert len(manifest) == 2 * round(0.01 * len(truth))
    front = manifest[manifest["kind"] == "front"].set_index("family_id")
    floor = manifest[manifest["kind"] == "floor"].set_index("family_id")
    t = truth.loc[front.index]
    assert (front["wall_label"] == material_class("wall", t["true_wall_material"])).all()
    assert (front["roof_label"] == material_class("roof", t["true_roof_material"])).all()
    assert (front["habitable"].astype(bool) == t["habitable"].astype(bool)).all()
    assert (floor["floor_label"] == material_class("floor", truth.loc[floor.index, "true_floor_material"])).all()
    assert front["floor_label"].isna().all() and floor[["wall_label", "roof_label", "habitable"]].isna().all().all()
    back = read_manifest(out)  # validates, finds every file
    assert len(back) == len(manifest)
    with Image.open(back["image_path"].iloc[0]) as img:
        assert img.format == "JPEG" and img.size == (64, 64)


def test_renderer_is_deterministic_by_seed(rendered, small_population_dir, tmp_path):
    out, _ = rendered
    again = render_photos(small_population_dir, tmp_path / "again", share=0.01, seed=11, size=64, workers=1,
                          progress=False)
    assert _digest(out) == _digest(tmp_path / "again")
    other = render_photos(small_population_dir, tmp_path / "other", share=0.01, seed=12, size=64, workers=2,
                          progress=False)
    assert set(other["family_id"]) != set(again["family_id"]) or _digest(out) != _digest(tmp_path / "other")


def test_photos_of_different_materials_differ_beyond_mean_colour(tmp_path):
    """No single pixel statistic separates the classes: per-class mean brightness ranges overlap."""
    from data.photo_scenes import render_floor

    means = {cls: [np.asarray(render_floor(np.random.default_rng([5, i]), 64, cls), dtype=float).mean()
                   for i in range(12)] for cls in FLOOR_CLASSES}
    lows, highs = [min(v) for v in means.values()], [max(v) for v in means.values()]
    assert max(lows) < min(highs)


def test_manifest_errors_name_family_field_and_allowed(tmp_path):
    img = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(img)
    bad = pd.DataFrame({"family_id": ["FAM0001", "FAM0002", "FAM0003"], "kind": ["front", "side", "floor"],
                        "path": ["a.png", "a.png", "missing.jpg"], "wall_label": ["brick", None, None],
                        "roof_label": [None, None, None], "floor_label": [None, None, "earth"],
                        "habitable": ["true", None, None]})
    bad.to_csv(tmp_path / "manifest.csv", index=False)
    with pytest.raises(ValueError) as err:
        read_manifest(tmp_path)
    text = str(err.value)
    assert "FAM0001: wall_label='brick'" in text and "masonry" in text
    assert "FAM0002: kind='side'" in text
    assert "FAM0003" in text and "not found" in text
    good = bad.iloc[[0]].assign(wall_label="masonry")
    good.to_csv(tmp_path / "manifest.csv", index=False)
    back = read_manifest(tmp_path / "manifest.csv")
    assert back["habitable"].tolist() == [True] and Path(back["image_path"].iloc[0]).is_file()


def _predictions() -> pd.DataFrame:
    rows = []
    for fid, kind in [("FAM0001", "front"), ("FAM0001", "floor"), ("FAM0002", "front"), ("FAM0003", "floor"),
                      ("FAM0003", "floor")]:
        row = {"family_id": fid, "kind": kind}
        for head, classes in HEAD_CLASSES.items():
            p = np.zeros(len(classes))
            p[hash((fid, kind, head, len(rows))) % len(classes)] = 0.9
            p += 0.1 / len(classes)
            row.update({prob_column(head, c): v for c, v in zip(classes, p, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def test_photo_features_columns_and_missing_photos():
    pred = _predictions()
    feats = photo_features_from_predictions(pred)
    assert list(feats.columns) == PHOTO_FEATURE_COLUMNS
    assert PHOTO_FEATURE_COLUMNS[-1] == "photo_habitable"
    assert {f"photo_wall_{c}" for c in WALL_CLASSES} | {f"photo_roof_{c}" for c in ROOF_CLASSES} <= set(feats.columns)
    assert sorted(feats.index) == ["FAM0001", "FAM0002", "FAM0003"]
    assert feats.loc["FAM0002", [f"photo_floor_{c}" for c in FLOOR_CLASSES]].isna().all()  # no floor photo
    assert feats.loc["FAM0003", ["photo_wall_wood", "photo_habitable"]].isna().all()  # no front photo
    two = pred[(pred["family_id"] == "FAM0003")]
    expected = two[[prob_column("floor", c) for c in FLOOR_CLASSES]].mean().to_numpy()
    assert np.allclose(feats.loc["FAM0003", [f"photo_floor_{c}" for c in FLOOR_CLASSES]].to_numpy(float), expected)
    assert feats.loc["FAM0001", "photo_habitable"] == pytest.approx(pred.loc[0, "prob_habitable_yes"])


def test_contradiction_flags_name_field_answer_and_photo_class():
    reported = pd.DataFrame({"family_id": ["FAM0001", "FAM0002", "FAM0003"],
                             "wall_material": [6, 1, 1], "roof_material": [2, 3, 7], "floor_material": [8, 2, 2]})
    feats = pd.DataFrame(np.nan, index=pd.Index(["FAM0001", "FAM0002", "FAM0003"], name="family_id"),
                         columns=PHOTO_FEATURE_COLUMNS)
    # FAM0001 answered bamboo wall, photo is 95% masonry -> flag; roof clay tile matches -> none
    feats.loc["FAM0001", ["photo_wall_masonry", "photo_wall_wood", "photo_wall_bamboo"]] = [0.95, 0.03, 0.02]
    feats.loc["FAM0001", ["photo_roof_concrete_asbestos", "photo_roof_clay_tile", "photo_roof_zinc",
                          "photo_roof_thatch_wood"]] = [0.02, 0.95, 0.02, 0.01]
    # FAM0001 answered earth floor, photo 85% ceramic -> flag at 0.8, not at 0.9
    feats.loc["FAM0001", ["photo_floor_ceramic", "photo_floor_cement", "photo_floor_wood", "photo_floor_earth"]] = [
        0.85, 0.05, 0.05, 0.05]
    # FAM0002 masonry answer, photo unsure (60% wood) -> no flag
    feats.loc["FAM0002", ["photo_wall_masonry", "photo_wall_wood", "photo_wall_bamboo"]] = [0.3, 0.6, 0.1]
    flags = contradiction_flags(reported, feats, threshold=0.8)
    assert list(zip(flags["family_id"], flags["field"], strict=True)) == [("FAM0001", "floor_material"),
                                                                         ("FAM0001", "wall_material")]
    wall = flags[flags["field"] == "wall_material"].iloc[0]
    assert wall["reported_code"] == 6 and wall["reported_label"] == "bamboo" and wall["photo_class"] == "masonry"
    assert "wall_material" in wall["message"] and "masonry" in wall["message"]
    assert len(contradiction_flags(reported, feats, threshold=0.9)) == 1
    truth = reported.rename(columns={c: f"true_{c}" for c in ("wall_material", "roof_material", "floor_material")})
    truth.loc[0, "true_wall_material"] = 1  # the wall answer was indeed wrong, the floor answer right
    truth["misreported_housing"] = [True, False, False]
    quality = flag_quality(flags, reported, truth)
    assert quality["flag_field_precision"] == 0.5 and quality["flag_field_recall"] == 1.0
    assert quality["flag_family_precision"] == 1.0 and quality["flag_family_recall"] == 1.0


def test_cli_photos_command_writes_manifest(small_population_dir, tmp_path):
    from click.testing import CliRunner

    from cli.photo_commands import photos

    result = CliRunner().invoke(photos, ["--population", str(small_population_dir), "--out", str(tmp_path / "p"),
                                         "--share", "0.002", "--seed", "4", "--size", "48", "--workers", "1"])
    assert result.exit_code == 0, result.output
    manifest = read_manifest(tmp_path / "p")
    assert len(manifest) == 2 * round(0.002 * len(read_truth(small_population_dir)))
    with Image.open(manifest["image_path"].iloc[0]) as img:
        assert img.size == (48, 48)
