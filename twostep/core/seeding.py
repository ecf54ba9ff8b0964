"""Every random number of a run comes from per-seed :class:`torch.Generator` streams.

Seed ``s`` draws its initial weights from generator ``s``, its training episodes
and action noise from ``s + TRAIN_STREAM`` and its test episodes from
``s + TEST_STREAM``. Draws happen on the CPU, so a run's episodes are the same on
every device, and with one generator per seed, seed ``s`` sees the same numbers
whether it is trained alone or beside others.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from twostep.errors import TwostepError

TRAIN_STREAM = 1_000_000
"""Offset of each seed's training stream (episodes and action noise)."""
TEST_STREAM = 2_000_000
"""Offset of each seed's test stream (test episodes)."""

GeneratorLike = torch.Generator | Sequence[torch.Generator]


def generators(seeds: Sequence[int], stream: int) -> list[torch.Generator]:
    """One generator per seed, ``torch.Generator().manual_seed(seed + stream)``."""
    return [torch.Generator().manual_seed(seed + stream) for seed in seeds]


def draw_uniform(generator: GeneratorLike, batch_shape: Sequence[int], *tail: int) -> torch.Tensor:
    """Uniform [0, 1) draws of shape ``[*batch_shape, *tail]`` on the CPU.

    With a list of generators, row ``i`` of the leading batch dimension comes from
    ``generator[i]``, so each row's stream does not depend on the others.
    """
    batch_shape = tuple(batch_shape)
    if isinstance(generator, torch.Generator):
        return torch.rand(*batch_shape, *tail, generator=generator)
    if len(generator) != batch_shape[0]:
        raise TwostepError(
            f"{len(generator)} generators for a leading batch dimension of {batch_shape[0]}"
        )
    return torch.stack([torch.rand(*batch_shape[1:], *tail, generator=g) for g in generator])
