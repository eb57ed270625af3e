"""The per-block facts every part of the generator draws on (one value per family)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BlockContext:
    """Families of one generation block: arrays of shape (n,).

    z: latent real welfare log(pcexp / poverty line); z_std: z standardised with the national
    mixture moments (about N(0, 1)); region: (n, 3) regional level effects on the housing,
    services and assets latents; loading_scale: per-family multiplier of the welfare loadings of
    housing, services and asset latents (data.synth_nonadditive), None when heterogeneity is off.
    """

    first_index: int  # global index of the block's first family
    z: np.ndarray
    z_std: np.ndarray
    urban: np.ndarray
    size: np.ndarray  # int16, people per family
    province: np.ndarray  # int, position in plan.province_codes
    regency: np.ndarray  # int, position in plan.regency_codes
    province_code: np.ndarray  # str (object)
    region: np.ndarray
    loading_scale: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.z.shape[0])
