"""A batched differentiable neural dictionary (DND; Pritzel et al. 2017).

One memory per episode of the batch: episode ``b`` holds entries
``(key_i, value_i)``, ``i = 1 .. N``, written in lockstep with every other episode
(entry ``i`` of every memory is the ``i``-th call to :meth:`DND.write`). A read
with query ``q`` compares it to the keys by cosine similarity

    sim(q, key_i) = q · key_i / (max(‖q‖, ε) · max(‖key_i‖, ε))

(ε keeps a zero query or key at similarity 0 instead of NaN) and returns

* ``"1nn"`` (what both public reimplementations of Ritter et al. 2018 do; the
  papers' own rule could not be read here): the value of the nearest key,

      m = value_{i*},   i* = argmax_i sim(q, key_i)

  so the gradient of ``m`` flows to that one value only;
* ``"knn"``: a kernel-weighted mix of the ``k`` nearest (``K`` = their indices),

      w_i = exp(sim(q, key_i) / τ) / Σ_{j ∈ K} exp(sim(q, key_j) / τ),   m = Σ_{i ∈ K} w_i value_i

  with temperature ``τ``: a convex combination of the ``k`` values, approaching
  1-NN as ``τ → 0``. This softmax over cosine similarities is this project's
  choice. It is *not* the DND of Pritzel et al. 2017, which weights its ``p``
  nearest neighbours by an inverse-distance kernel
  ``1 / (‖q − key_i‖² + δ)``, normalised.

Written values may carry autograd history (the epLSTM stores its cell states):
entries are kept in a list and stacked lazily at the next read, so by default
gradients flow from what is read back to what was written (a deviation: both
public implementations cut this gradient; ``detach_values=True`` cuts it too), and
nothing autograd saved is ever overwritten in place. Reads are one batched matrix product over
``[*batch, N, key_size]``; no Python loop over episodes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch

from twostep.errors import TwostepError

COSINE_EPS = 1e-8


@dataclass
class Retrieval:
    """The result of :meth:`DND.read` for every episode of the batch.

    ``value``: ``[*batch, value_size]`` the retrieved value; ``index``: ``[*batch]``
    long, the nearest entry; ``similarity``: ``[*batch]`` its cosine similarity;
    ``neighbours``: ``[*batch, k]`` long, the entries mixed into ``value`` (nearest
    first; one for ``"1nn"``) and ``weights``: ``[*batch, k]`` their weights (they sum
    to 1), so that ``value = Σ_j weights_j · value[neighbours_j]``.
    """

    value: torch.Tensor
    index: torch.Tensor
    similarity: torch.Tensor
    neighbours: torch.Tensor
    weights: torch.Tensor


class DND:
    """Per-episode key-value memories for a batch of episodes, read by cosine similarity.

    Args:
        batch_shape: ``[*batch]``, e.g. ``(S, B)``: one memory per episode.
        capacity: most entries per memory (the episodic task writes one per uncued trial).
        key_size, value_size: widths of keys and values.
        retrieval: ``"1nn"`` (nearest neighbour) or ``"knn"`` (softmax over the top ``k``).
        k, temperature: neighbours and softmax temperature for ``"knn"``.
        detach_values: store values without their autograd history, so no gradient
            flows from a read back into what was written (as both public
            implementations do).
        device: where the memory lives.

    >>> memory = DND((2, 3), capacity=50, key_size=10, value_size=48)
    >>> memory.write(torch.ones(2, 3, 10), torch.zeros(2, 3, 48))
    >>> memory.read(torch.ones(2, 3, 10)).similarity.shape
    torch.Size([2, 3])
    """

    def __init__(self, batch_shape: Sequence[int], capacity: int, key_size: int,
                 value_size: int, retrieval: Literal["1nn", "knn"] = "1nn", k: int = 5,
                 temperature: float = 0.1, device: torch.device | str = "cpu",
                 detach_values: bool = False):
        if retrieval not in ("1nn", "knn"):
            raise TwostepError(f"unknown retrieval '{retrieval}': use '1nn' or 'knn'")
        if capacity <= 0 or key_size <= 0 or value_size <= 0 or k <= 0:
            raise TwostepError("capacity, key_size, value_size and k must be positive")
        if temperature <= 0:
            raise TwostepError(f"temperature must be positive, not {temperature}")
        self.batch_shape = tuple(batch_shape)
        self.capacity = capacity
        self.key_size = key_size
        self.value_size = value_size
        self.retrieval = retrieval
        self.k = k
        self.temperature = temperature
        self.detach_values = detach_values
        self.device = torch.device(device)
        self._episodes = math.prod(self.batch_shape)
        self.reset()

    def reset(self) -> None:
        """Forget every entry of every episode's memory."""
        self._keys: list[torch.Tensor] = []
        self._values: list[torch.Tensor] = []
        self._stacked: tuple[torch.Tensor, torch.Tensor] | None = None

    def __len__(self) -> int:
        """Entries written to each memory since the last reset."""
        return len(self._keys)

    def write(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        """Append one entry to every episode's memory.

        ``keys``: ``[*batch, key_size]``; ``values``: ``[*batch, value_size]`` (may
        carry autograd history: reads back-propagate into it).
        """
        self._check_shape("keys", keys, self.key_size)
        self._check_shape("values", values, self.value_size)
        if len(self) >= self.capacity:
            raise TwostepError(f"the memory is full ({self.capacity} entries): call reset()")
        # Normalise the key once, here: sim(q, key) = q̂ · keŷ.
        key_unit = keys / keys.norm(dim=-1, keepdim=True).clamp_min(COSINE_EPS)
        self._keys.append(key_unit.reshape(self._episodes, self.key_size).to(self.device))
        if self.detach_values:
            values = values.detach()
        self._values.append(values.reshape(self._episodes, self.value_size).to(self.device))
        self._stacked = None

    def read(self, query: torch.Tensor) -> Retrieval:
        """Retrieve from every episode's memory with its ``query`` ``[*batch, key_size]``."""
        self._check_shape("query", query, self.key_size)
        if len(self) == 0:
            raise TwostepError("read from an empty memory: write() at least one entry first")
        keys, values = self._stack()                             # [E, key, N], [E * N, value]
        n_entries = len(self)
        query_unit = query / query.norm(dim=-1, keepdim=True).clamp_min(COSINE_EPS)
        query_unit = query_unit.reshape(self._episodes, 1, self.key_size)
        similarity = torch.bmm(query_unit, keys).squeeze(-2)     # [E, N]
        # Row e of the flat values holds episode e // N's entry e % N.
        first_entry = torch.arange(self._episodes, device=similarity.device) * n_entries

        if self.retrieval == "1nn":
            best_similarity, best = similarity.max(dim=-1)       # [E]
            value = values.index_select(0, first_entry + best)   # [E, value]
            top, weights = best.unsqueeze(-1), torch.ones_like(best_similarity).unsqueeze(-1)
        else:
            top_similarity, top = similarity.topk(min(self.k, n_entries), dim=-1)  # [E, k]
            weights = torch.softmax(top_similarity / self.temperature, dim=-1)
            neighbours = values.index_select(0, (first_entry.unsqueeze(-1) + top).reshape(-1))
            neighbours = neighbours.reshape(self._episodes, top.shape[-1], self.value_size)
            value = (weights.unsqueeze(-1) * neighbours).sum(dim=-2)
            best_similarity, best = top_similarity[:, 0], top[:, 0]

        return Retrieval(value=value.reshape(*self.batch_shape, self.value_size),
                         index=best.reshape(self.batch_shape),
                         similarity=best_similarity.reshape(self.batch_shape),
                         neighbours=top.reshape(*self.batch_shape, -1),
                         weights=weights.reshape(*self.batch_shape, -1))

    # ------------------------------------------------------------------ internals
    def _stack(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Unit keys ``[E, key_size, N]`` and values ``[E * N, value_size]`` (episode-major),
        stacked once per run of reads (a write invalidates the cache).

        These layouts are the fast ones on the CPU: ``[E, 1, key] @ [E, key, N]`` is
        ~8x faster than ``[E, N, key] @ [E, key, 1]``, and ``index_select`` on the
        flat values ~4x faster than advanced indexing.
        """
        if self._stacked is None:
            keys = torch.stack(self._keys, dim=-1)
            values = torch.stack(self._values, dim=1).reshape(-1, self.value_size)
            self._stacked = (keys, values)
        return self._stacked

    def _check_shape(self, name: str, tensor: torch.Tensor, width: int) -> None:
        expected = (*self.batch_shape, width)
        if tuple(tensor.shape) != expected:
            raise TwostepError(f"{name} of shape {tuple(tensor.shape)}, expected {expected}")


__all__ = ["DND", "Retrieval"]
