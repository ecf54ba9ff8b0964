"""Where the networks run: ``auto`` means CUDA when available, else the CPU."""

from __future__ import annotations

import torch

from twostep.errors import TwostepError
from twostep.guards import check_device_type


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``auto`` (or None) means CUDA when available, else CPU; anything else is checked."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise TwostepError(f"unknown device '{device}' (use cpu, cuda or auto)") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise TwostepError("device 'cuda' asked for, but no CUDA device is available")
    check_device_type(resolved)
    return resolved
