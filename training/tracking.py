"""Run tags every training job carries (DESIGN §4): git commit, data fingerprint, seed.

The store set-up itself (`configure_tracking`) lives in config/tracking.py, shared with serving/.
"""

from __future__ import annotations

import subprocess

from config import PROJECT_ROOT
from config.tracking import configure_tracking

__all__ = ["configure_tracking", "git_commit", "lineage_tags"]


def git_commit() -> str:
    """The project's current git commit (with '-dirty' when the tree has changes), or 'unknown'."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def lineage_tags(seed: int, data_fingerprint: str, **extra: str | int) -> dict[str, str]:
    """The tags every run carries: git commit, data fingerprint, seed (+ job-specific extras)."""
    tags = {"git_commit": git_commit(), "data_fingerprint": data_fingerprint, "seed": str(seed)}
    tags.update({k: str(v) for k, v in extra.items()})
    return tags
