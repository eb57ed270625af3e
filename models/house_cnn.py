"""The house-photo CNN: a torchvision backbone with one classification head per label, the masked loss,
and the ONE image preprocessing used by training, the MLflow pyfunc and serving.

Heads (features.photo_features.HEAD_CLASSES): wall (3 classes), roof (4), floor (4), habitable (no/yes).
A front photo carries targets for wall, roof and habitable; a floor photo for floor; a missing label is
target -1 and contributes nothing to the loss (so neither does a head the photo does not show).

Weights are never downloaded: the backbone is built with `weights=None`; an optional local state-dict
file (torch.load(..., weights_only=True)) may initialise it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image, UnidentifiedImageError
from torch import nn
from torch.nn import functional as F

from features.photo_features import HEAD_CLASSES

IGNORE = -1  # target of an absent label
BN_MOMENTUM = 0.1
# ImageNet statistics: the usual choice, and what a local torchvision weights file expects
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
# architecture -> attribute holding the ImageNet classifier, replaced by Identity to expose features
ARCHITECTURES: dict[str, str] = {
    "mobilenet_v3_small": "classifier", "mobilenet_v3_large": "classifier", "mobilenet_v2": "classifier",
    "efficientnet_b0": "classifier", "resnet18": "fc", "resnet34": "fc", "resnet50": "fc",
    "shufflenet_v2_x1_0": "fc", "regnet_y_400mf": "fc",
}


class ImageReadError(ValueError):
    """An input that is not a readable image; the message names the input and what was expected."""


def load_image(source: str | Path | bytes, name: str | None = None) -> Image.Image:
    """Open an image file path or encoded bytes (JPEG, PNG, ...) as RGB.

    Raises ImageReadError naming the file (or `name`) when it is missing, empty or not an image.
    """
    label = name or (str(source) if not isinstance(source, bytes) else f"<{len(source)} bytes>")
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else Path(source)) as img:
            img.load()
            return img.convert("RGB")
    except FileNotFoundError:
        raise ImageReadError(f"{label}: image file not found (expected a JPEG or PNG file)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(f"{label}: not a readable image (expected a JPEG or PNG file): {err}") from None


def image_to_uint8(img: Image.Image, size: int) -> np.ndarray:
    """Resize an RGB image to size x size (bilinear, antialiased): (3, size, size) uint8 array."""
    if img.size != (size, size):
        img = img.resize((size, size), Image.BILINEAR)
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8).transpose(2, 0, 1))


def normalise(batch: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W) in [0, 255] -> float32 normalised with the ImageNet mean and std."""
    x = batch.float().div_(255.0)
    return (x - MEAN.to(x.device)) / STD.to(x.device)


def preprocess(images: Sequence[Image.Image | str | Path | bytes], size: int) -> torch.Tensor:
    """THE preprocessing: images (PIL, paths or encoded bytes) -> normalised float32 (N, 3, size, size)."""
    arrays = [image_to_uint8(im if isinstance(im, Image.Image) else load_image(im), size) for im in images]
    return normalise(torch.from_numpy(np.stack(arrays)))


class HouseCNN(nn.Module):
    """Backbone + one linear head per label. forward(x) -> {head: logits (N, n_classes)}."""

    def __init__(self, arch: str = "mobilenet_v3_small", dropout: float = 0.2,
                 heads: dict[str, tuple[str, ...]] | None = None, weights_path: str | Path | None = None):
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ValueError(f"arch={arch!r} is not supported; choose one of {sorted(ARCHITECTURES)}")
        self.arch = arch
        self.head_classes = dict(heads or HEAD_CLASSES)
        backbone = torchvision.models.get_model(arch, weights=None)
        if weights_path is not None:
            load_local_weights(backbone, weights_path)
        setattr(backbone, ARCHITECTURES[arch], nn.Identity())
        for module in backbone.modules():
            # torchvision's MobileNet/EfficientNet use momentum 0.01, tuned for ImageNet-length runs; on a
            # few thousand steps from scratch the running statistics lag the weights and eval collapses.
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.momentum = BN_MOMENTUM
        self.backbone = backbone
        with torch.no_grad():
            was_training = backbone.training
            backbone.eval()
            dim = backbone(torch.zeros(1, 3, 64, 64)).shape[1]
            backbone.train(was_training)
        self.heads = nn.ModuleDict({
            head: nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, len(classes)))
            for head, classes in self.head_classes.items()
        })

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = self.backbone(x)
        return {head: layer(feats) for head, layer in self.heads.items()}


def load_local_weights(backbone: nn.Module, path: str | Path) -> None:
    """Initialise a torchvision backbone from a local state-dict file (never downloads)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"weights file {p} not found (expected a torchvision state_dict saved with torch.save)")
    state = torch.load(p, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"weights file {p} does not hold a state_dict (got {type(state).__name__})")
    own = backbone.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not usable:
        raise ValueError(f"weights file {p} has no tensor matching the {type(backbone).__name__} backbone")
    backbone.load_state_dict(usable, strict=False)


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches: Iterable[torch.Tensor]) -> None:
    """Recompute every BatchNorm's running mean/var as the exact average over `batches` (normalised
    inputs, no augmentation), so that eval mode matches the final weights. Leaves the model in eval mode."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
    model.train()
    for x in batches:
        model(x)
    for m, momentum in zip(norms, saved, strict=True):
        m.momentum = momentum
    model.eval()


def masked_loss(logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum over heads of the mean cross-entropy over the photos that carry that head's label.

    `targets[head]`: int64 (N,) class index, IGNORE (-1) where the label is absent or the photo's kind
    does not show the head; such rows add nothing (zero gradient). A head with no labelled row adds 0.
    """
    total = next(iter(logits.values())).new_zeros(())
    for head, out in logits.items():
        target = targets[head]
        present = target != IGNORE
        if present.any():
            total = total + F.cross_entropy(out[present].float(), target[present])
    return total


def predict_probabilities(model: HouseCNN, batch: torch.Tensor) -> dict[str, np.ndarray]:
    """Softmax probabilities per head for a preprocessed batch: {head: (N, n_classes) float32}."""
    model.eval()
    with torch.inference_mode():
        logits = model(batch)
    return {head: torch.softmax(out.float(), dim=1).cpu().numpy() for head, out in logits.items()}
