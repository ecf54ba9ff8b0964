"""Where the networks run: ``auto`` means CUDA when available, else the CPU."""

from __future__ import annotations

import torch

from twostep.errors import TwostepError


def check_device_type(device: torch.device) -> None:
    """Only devices that hold real numbers: ``meta`` (and other placeholders) are refused."""
    if device.type not in ("cpu", "cuda"):
        raise TwostepError(f"device '{device}' is not supported (use cpu, cuda or auto)")
    if device.type == "cuda" and device.index is not None:
        if device.index >= torch.cuda.device_count():
            raise TwostepError(f"device '{device}' asked for, but only "
                               f"{torch.cuda.device_count()} CUDA device(s) exist")


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
