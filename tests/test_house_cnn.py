"""House CNN: masked loss, image errors, local weights, and a tiny real training run that logs to a
SQLite MLflow store, registers house-cnn and is loaded back with mlflow.pyfunc (CPU path)."""

from __future__ import annotations

import base64
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
from mlflow.tracking import MlflowClient
from PIL import Image

from data.photos import render_photos
from features.photo_features import (
    HEAD_CLASSES,
    PHOTO_FEATURE_COLUMNS,
    photo_features_from_predictions,
    prob_column,
)
from models.house_cnn import IGNORE, HouseCNN, ImageReadError, load_image, masked_loss, preprocess
from training.cnn_data import head_targets, split_by_family
from training.train_cnn import resolve_device, train_cnn


def test_masked_loss_ignores_absent_labels_and_unshown_heads():
    torch.manual_seed(0)
    model = HouseCNN("mobilenet_v3_small")
    x = torch.randn(4, 3, 64, 64)
    front_only = {"wall": torch.tensor([0, 1, 2, IGNORE]), "roof": torch.tensor([3, 2, 1, 0]),
                  "habitable": torch.tensor([1, 0, IGNORE, 1]), "floor": torch.full((4,), IGNORE)}
    model.train()
    loss = masked_loss(model(x), front_only)
    loss.backward()
    floor_grad = model.heads["floor"][1].weight.grad
    assert floor_grad is None or torch.count_nonzero(floor_grad) == 0
    assert torch.count_nonzero(model.heads["wall"][1].weight.grad) > 0
    # an absent label changes nothing: equal to the loss over the labelled rows only
    model.eval()
    with torch.no_grad():
        logits = model(x)
        full = masked_loss(logits, front_only)
        wall = torch.nn.functional.cross_entropy(logits["wall"][:3], front_only["wall"][:3])
        roof = torch.nn.functional.cross_entropy(logits["roof"], front_only["roof"])
        hab_rows = torch.tensor([0, 1, 3])
        hab = torch.nn.functional.cross_entropy(logits["habitable"][hab_rows], front_only["habitable"][hab_rows])
    assert torch.isclose(full, wall + roof + hab)


def test_targets_follow_photo_kind():
    manifest = pd.DataFrame({"family_id": ["A", "A", "B"], "kind": ["front", "floor", "front"],
                             "wall_label": ["wood", "wood", None], "roof_label": ["zinc", None, "clay_tile"],
                             "floor_label": [None, "earth", "earth"],
                             "habitable": pd.array([True, True, pd.NA], dtype="boolean")})
    t = head_targets(manifest)
    assert t["wall"].tolist() == [HEAD_CLASSES["wall"].index("wood"), IGNORE, IGNORE]
    assert t["floor"].tolist() == [IGNORE, HEAD_CLASSES["floor"].index("earth"), IGNORE]  # front hides the floor
    assert t["habitable"].tolist() == [1, IGNORE, IGNORE]
    val = split_by_family(pd.Series(["A", "A", "B", "C", "C"]), 0.5, seed=1)
    assert val[0] == val[1] and val[3] == val[4]


def test_unreadable_inputs_get_clear_errors(tmp_path):
    corrupt = tmp_path / "house.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    for path in (corrupt, text):
        with pytest.raises(ImageReadError, match=rf"{path.name}.*expected a JPEG or PNG"):
            load_image(path)
    with pytest.raises(ImageReadError, match="not found"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageReadError):
        preprocess([corrupt], 64)


def test_local_weights_initialise_backbone_without_download(tmp_path):
    source = torchvision.models.get_model("resnet18", weights=None)
    torch.save(source.state_dict(), tmp_path / "resnet18.pt")
    model = HouseCNN("resnet18", weights_path=tmp_path / "resnet18.pt")
    assert torch.equal(model.backbone.conv1.weight, source.conv1.weight)
    torch.save({"unrelated": torch.zeros(2)}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="no tensor matching"):
        HouseCNN("resnet18", weights_path=tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not supported"):
        HouseCNN("alexnet-ish")


def test_device_resolution_cpu_path():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA"):
            resolve_device("cuda")


@pytest.fixture(scope="module")
def tiny_run(small_population_dir, tmp_path_factory):
    """~300 synthetic photos, 1 epoch at 64 px, logged to a SQLite store and registered @challenger."""
    root = tmp_path_factory.mktemp("cnn")
    manifest = render_photos(small_population_dir, root / "photos", share=0.05, seed=3, size=64, workers=2,
                             progress=False)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    result = train_cnn(root / "photos", epochs=1, device="cpu", seed=5, batch_size=32, image_size=64,
                       tracking_uri=uri, register=True, alias="challenger", progress=False)
    return root, uri, manifest, result


def test_tiny_training_logs_registers_and_reports(tiny_run):
    root, uri, manifest, result = tiny_run
    assert 250 <= len(manifest) <= 350
    assert result["device"] == "cpu" and result["registered_version"] == "1"
    for head in HEAD_CLASSES:
        assert 0 <= result["metrics"][f"val_accuracy_{head}"] <= 1
        assert 0 <= result["metrics"][f"val_macro_f1_{head}"] <= 1
    assert result["metrics"]["train_images_per_s"] > 0
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.get_run(result["run_id"])
    assert run.data.params["arch"] == "mobilenet_v3_small" and run.data.params["device"] == "cpu"
    assert run.data.tags["seed"] == "5" and run.data.tags["data_fingerprint"]
    artifacts = {a.path for a in client.list_artifacts(result["run_id"], "plots")}
    assert {f"plots/confusion_{h}.png" for h in HEAD_CLASSES} | {"plots/misclassified.png"} <= artifacts
    assert str(client.get_model_version_by_alias("house-cnn", "challenger").version) == "1"


def test_registered_model_classifies_real_jpeg_and_png(tiny_run, tmp_path):
    root, uri, manifest, _ = tiny_run
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    model = mlflow.pyfunc.load_model("models:/house-cnn@challenger")
    assert model.metadata.signature is not None
    jpeg = root / "photos" / manifest["path"].iloc[0]
    png = tmp_path / "floor.png"
    Image.open(root / "photos" / manifest["path"].iloc[1]).save(png)
    frame = pd.DataFrame({"family_id": manifest["family_id"].iloc[:2].tolist(), "kind": ["front", "floor"],
                          "image_path": [str(jpeg), str(png)]})
    out = model.predict(frame)
    assert len(out) == 2 and out["family_id"].tolist() == frame["family_id"].tolist()
    for head, classes in HEAD_CLASSES.items():
        probs = out[[prob_column(head, c) for c in classes]].to_numpy(float)
        assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
        assert set(out[f"{head}_label"]) <= set(classes)
    by_bytes = model.predict(pd.DataFrame({"image_base64": [base64.b64encode(Path(png).read_bytes()).decode()]}))
    assert np.allclose(by_bytes[prob_column("floor", "earth")].iloc[0], out[prob_column("floor", "earth")].iloc[1],
                       atol=1e-5)
    feats = photo_features_from_predictions(out)
    assert list(feats.columns) == PHOTO_FEATURE_COLUMNS and len(feats) == frame["family_id"].nunique()
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"GIF89a-nope")
    with pytest.raises(Exception, match=r"broken\.jpg.*expected a JPEG or PNG"):
        model.predict(pd.DataFrame({"family_id": ["FAM9999"], "image_path": [str(bad)]}))


def test_training_is_deterministic_by_seed(tmp_path):
    from training.cnn_data import PhotoTensors
    from training.tracking import configure_tracking
    from training.train_cnn import fit, seed_everything

    configure_tracking(f"sqlite:///{tmp_path / 'mlflow.db'}", experiment="determinism")
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (48, 3, 48, 48), dtype=torch.uint8, generator=gen)
    targets = {h: torch.randint(0, len(c), (48,), generator=gen) for h, c in HEAD_CLASSES.items()}
    data = PhotoTensors(images, targets, pd.DataFrame({"family_id": [f"F{i:04d}" for i in range(48)]}))
    weights = []
    for seed in (3, 3, 4):
        seed_everything(seed)
        model = HouseCNN("mobilenet_v3_small")
        with mlflow.start_run():
            fit(model, data, np.arange(40), torch.device("cpu"), epochs=1, batch_size=16, learning_rate=1e-3,
                weight_decay=0.0, seed=seed, progress=False, val_rows=np.arange(40, 48))
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(weights[0], weights[1])
    assert not torch.equal(weights[0], weights[2])
