r"""The recurrent actor-critic: an LSTM (Wang 2018) or an epLSTM (Ritter 2018).

Every parameter carries a leading *seed* dimension ``S``: ``S`` independently
initialised networks live in one module and step together as one batched
matrix product, so training eight seeds costs little more than training one.
Inputs are ``[S, B, ...]`` (seeds x episodes).

LSTM (Hochreiter & Schmidhuber 1997), for input :math:`x_t` and previous
:math:`h_{t-1}, c_{t-1}`::

    i_t = σ(W_i [x_t, h_{t-1}] + b_i)        input gate
    f_t = σ(W_f [x_t, h_{t-1}] + b_f)        forget gate
    g_t = tanh(W_g [x_t, h_{t-1}] + b_g)     candidate
    o_t = σ(W_o [x_t, h_{t-1}] + b_o)        output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)

epLSTM (Ritter et al. 2018) adds a reinstatement gate that lets a cell state
:math:`m_t` retrieved from episodic memory flow into the cell::

    r_t = σ(W_r [x_t, h_{t-1}] + b_r)        reinstatement gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t + r_t ⊙ tanh(m_t)

With no retrieval (:math:`m_t` absent) the epLSTM is exactly the LSTM.

Heads (Mnih et al. 2016): policy :math:`π(a | h_t) = \mathrm{softmax}(W_π h_t + b_π)`
and value :math:`V(h_t) = w_v^\top h_t + b_v`.

Gate order in the weight matrix is ``i, f, o[, r], g``: the sigmoid gates first,
then the candidate, so each is one contiguous block. :meth:`RecurrentActorCritic.load_lstm_cell`
copies a :class:`torch.nn.LSTMCell`'s ``i, f, g, o`` layout onto it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class CellOutput:
    """One step of the cell for every seed and episode; each field ``[S, B, H]``.

    ``cell_before_reinstatement`` is :math:`f ⊙ c_{t-1} + i ⊙ g`, what the cell
    would hold without memory; ``reinstatement_gate`` is ``None`` for a plain LSTM.
    """

    hidden: torch.Tensor
    cell: torch.Tensor
    cell_before_reinstatement: torch.Tensor
    reinstatement_gate: torch.Tensor | None


class RecurrentActorCritic(nn.Module):
    """``n_seeds`` LSTM (or epLSTM) actor-critics with separate weights, stepped together.

    Args:
        input_size: width of the observation.
        hidden_size: LSTM units.
        n_actions: size of the policy.
        seeds: one integer per network; each network's initial weights are drawn
            from ``torch.Generator().manual_seed(seed)``, so a seed's network does
            not depend on which other seeds share the module.
        reinstatement: add the epLSTM reinstatement gate.
    """

    def __init__(self, input_size: int, hidden_size: int, n_actions: int,
                 seeds: Sequence[int] = (0,), reinstatement: bool = False):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.n_actions = n_actions
        self.seeds = list(seeds)
        self.reinstatement = reinstatement
        n_gates = 5 if reinstatement else 4
        S, H = len(self.seeds), hidden_size
        bound = 1.0 / math.sqrt(H)
        weight = torch.empty(S, input_size + H, n_gates * H)
        bias = torch.empty(S, n_gates * H)
        head_weight = torch.empty(S, H, n_actions + 1)
        head_bias = torch.empty(S, n_actions + 1)
        for s, seed in enumerate(self.seeds):
            g = torch.Generator().manual_seed(seed)
            for tensor in (weight[s], bias[s], head_weight[s], head_bias[s]):
                tensor.uniform_(-bound, bound, generator=g)
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)
        self.head_weight = nn.Parameter(head_weight)
        self.head_bias = nn.Parameter(head_bias)

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    @property
    def gate_names(self) -> tuple[str, ...]:
        """The gates in the order of their column blocks in ``weight`` and ``bias``."""
        sigmoid = ("input", "forget", "output", "reinstatement") if self.reinstatement else (
            "input", "forget", "output")
        return (*sigmoid, "candidate")

    def gate(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """One gate's weight ``[S, input + H, H]`` (rows: input, then hidden) and bias
        ``[S, H]``, as views of the parameters; e.g. ``gate("reinstatement")`` is
        :math:`W_r, b_r`."""
        if name not in self.gate_names:
            raise ValueError(f"no gate '{name}': this network has {', '.join(self.gate_names)}")
        H = self.hidden_size
        block = self.gate_names.index(name)
        return self.weight[..., block * H:(block + 1) * H], self.bias[..., block * H:(block + 1) * H]

    def initial_state(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Zero hidden and cell state ``[S, B, H]`` each."""
        zeros = self.weight.new_zeros(self.n_seeds, batch_size, self.hidden_size)
        return zeros, zeros.clone()

    def cell_step(self, x: torch.Tensor, hidden: torch.Tensor, cell: torch.Tensor,
                  memory: torch.Tensor | None = None) -> CellOutput:
        """One LSTM/epLSTM step. ``x``: ``[S, B, input]``; ``memory``: ``[S, B, H]`` or None."""
        H = self.hidden_size
        gates = torch.baddbmm(self.bias.unsqueeze(1), torch.cat([x, hidden], dim=-1), self.weight)
        n_sigmoid = self.weight.shape[-1] - H
        squashed, candidate = gates.split([n_sigmoid, H], dim=-1)
        sigmoid_gates = torch.sigmoid(squashed).split(H, dim=-1)
        input_gate, forget_gate, output_gate = sigmoid_gates[:3]
        reinstatement_gate = sigmoid_gates[3] if self.reinstatement else None
        new_cell = torch.addcmul(forget_gate * cell, input_gate, torch.tanh(candidate))
        before = new_cell
        if memory is not None:
            if reinstatement_gate is None:
                raise ValueError("memory given to a cell without a reinstatement gate")
            new_cell = torch.addcmul(new_cell, reinstatement_gate, torch.tanh(memory))
        new_hidden = output_gate * torch.tanh(new_cell)
        return CellOutput(new_hidden, new_cell, before, reinstatement_gate)

    def load_lstm_cell(self, seed_index: int, lstm_cell: nn.LSTMCell) -> None:
        """Copy a :class:`torch.nn.LSTMCell`'s weights into one seed's network."""
        H = self.hidden_size
        with torch.no_grad():
            stacked = torch.cat([lstm_cell.weight_ih, lstm_cell.weight_hh], dim=1)  # [4H, in+H]
            bias = lstm_cell.bias_ih + lstm_cell.bias_hh
            i, f, g, o = stacked.split(H, dim=0)
            bi, bf, bg, bo = bias.split(H)
            self.weight[seed_index, :, :3 * H] = torch.cat([i, f, o]).T
            self.weight[seed_index, :, -H:] = g.T
            self.bias[seed_index, :3 * H] = torch.cat([bi, bf, bo])
            self.bias[seed_index, -H:] = bg

    def heads(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Policy logits ``[S, B, n_actions]`` and value ``[S, B]`` from ``hidden`` ``[S, B, H]``."""
        out = torch.baddbmm(self.head_bias.unsqueeze(1), hidden, self.head_weight)
        logits, value = out.split([self.n_actions, 1], dim=-1)
        return logits, value.squeeze(-1)


def sample_actions(logits: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Sample from ``softmax(logits)`` by inverting its CDF at ``uniform`` (``[*batch]``).

    Pre-drawn uniforms keep every random number of a run in per-seed generators.
    """
    cdf = torch.softmax(logits, dim=-1).cumsum(dim=-1)[..., :-1]
    return (uniform.unsqueeze(-1) >= cdf).sum(dim=-1)
