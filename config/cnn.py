"""Configuration of the house-photo CNN (config/cnn.yaml): photo rendering, model, training, flags."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, model_validator

from config import StrictModel, load_yaml


class PhotoRenderConfig(StrictModel):
    """Synthetic photo rendering (data/photos.py)."""

    share: float = Field(gt=0, le=1, description="share of families that get a front and a floor photo")
    size: int = Field(ge=32, le=1024, description="photo side in pixels")
    workers: int = Field(ge=1, le=64, description="rendering processes")
    jpeg_quality_min: int = Field(ge=10, le=100)
    jpeg_quality_max: int = Field(ge=10, le=100)

    @model_validator(mode="after")
    def _quality_range(self) -> PhotoRenderConfig:
        if self.jpeg_quality_min > self.jpeg_quality_max:
            raise ValueError("jpeg_quality_min must be <= jpeg_quality_max")
        return self


class CnnModelConfig(StrictModel):
    """The network: torchvision architecture and input size."""

    arch: str = "mobilenet_v3_small"
    image_size: int = Field(ge=32, le=512, description="network input side in pixels")
    dropout: float = Field(ge=0, lt=1)


class CnnTrainingConfig(StrictModel):
    """The training loop (training/train_cnn.py)."""

    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    learning_rate: float = Field(gt=0)
    weight_decay: float = Field(ge=0)
    val_share: float = Field(gt=0, lt=1, description="share of families held out for validation")
    seed: int
    misclassified_grid: int = Field(ge=0, le=400)
    loader_workers: int = Field(ge=0)


class PhotoFlagConfig(StrictModel):
    """Photo-vs-survey contradiction flags (models/photo_flags.py)."""

    threshold: float = Field(gt=0, lt=1, description="minimum photo-class probability for a flag")


class CnnConfig(StrictModel):
    photos: PhotoRenderConfig
    model: CnnModelConfig
    training: CnnTrainingConfig
    flags: PhotoFlagConfig


@lru_cache(maxsize=1)
def cnn_config() -> CnnConfig:
    """The validated contents of config/cnn.yaml (env DESIL_CONFIG_CNN names another file)."""
    return CnnConfig(**load_yaml("cnn"))
