r"""Two engines that play and learn from a batch of episodes, with the same result.

* ``"reference"`` (:func:`twostep.core.rollout.play`): the network steps through the
  episode one trial at a time and autograd records every operation; the loss's
  ``backward()`` walks that record. It is the readable definition, and the chapters
  build it in the open. It runs on any device.
* ``"compiled"`` (:func:`play_compiled`, the CPU's default): the same forward pass, with
  the many tiny operations of a step fused into compiled kernels
  (:mod:`twostep.core.compiled`), recorded into preallocated arrays with no autograd;
  the backward pass through the whole episode is one hand-written kernel, exposed to
  autograd as one :class:`torch.autograd.Function`. Per update it does a fraction of
  the reference's work in Python (see ``python -m twostep bench``).

Both take the same per-seed random numbers and sample choices the same way. Their
arithmetic differs in rounding only: the compiled engine adds the bias inside the
matrix product and sums in another order, so a choice whose uniform draw falls within
a rounding error of its threshold can differ. The tests hold the compiled engine's
losses and gradients to the reference's within float tolerance, update after update.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from twostep.core.build import build_memory
from twostep.core.config import ExperimentConfig
from twostep.core.models import RecurrentActorCritic
from twostep.core.rollout import Rollout, play
from twostep.core.seeding import draw_uniform
from twostep.core.tasks import TwoStepTask
from twostep.errors import TwostepError

ENGINES = ("compiled", "reference")
"""The engines, by name; ``train.engine: auto`` picks ``compiled`` on the CPU and
``reference`` elsewhere."""


def resolve_engine(config: ExperimentConfig, device: torch.device) -> str:
    """The engine a run uses on ``device``: the config's, or for ``auto`` the device's default."""
    engine = config.train.engine
    if engine == "auto":
        return "compiled" if device.type == "cpu" else "reference"
    if engine == "compiled" and device.type != "cpu":
        raise TwostepError(f"train.engine 'compiled' runs on the CPU only, not on {device}; "
                           "use 'reference' (or 'auto')")
    return engine


@dataclass
class Trace:
    """What the compiled forward pass keeps for the backward pass, time-major ``[T, S, B, ...]``.

    ``inputs``: the cell's input ``[x_t, h_{t-1}, 1]``; ``act``: gate activations;
    ``cell``: ``[T + 1, ...]``, ``cell[t]`` is :math:`c_{t-1}`; ``tanh_cell``; ``hidden``;
    ``out``: head outputs (logits, value). Memory: ``read_step`` ``[T]``, ``write_entry``
    ``[T]`` (the entry written at each step, -1 for none), ``neighbours`` and
    ``neighbour_weights`` ``[T, S, B, k]`` of each read, ``tanh_memory`` ``[T, S, B, H]``.
    """

    input_size: int
    hidden_size: int
    inputs: np.ndarray
    act: np.ndarray
    cell: np.ndarray
    tanh_cell: np.ndarray
    hidden: np.ndarray
    out: np.ndarray
    read_step: np.ndarray
    write_entry: np.ndarray
    neighbours: np.ndarray
    neighbour_weights: np.ndarray
    tanh_memory: np.ndarray
    n_entries: int


def _weight_with_bias(model: RecurrentActorCritic) -> torch.Tensor:
    """``[S, I + H + 1, G]``: the cell's weight with its bias as one more input row."""
    return torch.cat([model.weight.detach(), model.bias.detach().unsqueeze(1)], dim=1).contiguous()


@torch.no_grad()
def _forward(model: RecurrentActorCritic, task: TwoStepTask, config: ExperimentConfig,
             generators: list[torch.Generator], batch_size: int):
    """Play the episodes; return the trace, the rewards ``[S, B, T]`` and the outcomes."""
    from twostep.core import compiled

    S, B, T = model.n_seeds, batch_size, task.trials
    IN, H, A = model.input_size, model.hidden_size, model.n_actions
    G = model.weight.shape[-1]
    n_sigmoid = G - H
    observation = task.reset((S, B), generators)
    if observation.shape[-1] != IN:
        raise TwostepError(f"the task's observation is {observation.shape[-1]} wide, "
                           f"the network takes {IN}")
    noise = draw_uniform(generators, (S, B), T).numpy()
    weight = _weight_with_bias(model)
    head_weight = model.head_weight.detach().numpy()
    head_bias = model.head_bias.detach().numpy()

    inputs_t = torch.zeros(T, S, B, IN + H + 1)
    inputs_t[..., -1] = 1.0
    act_t = torch.empty(T, S, B, G)
    cell_t = torch.zeros(T + 1, S, B, H)
    tanh_cell_t = torch.empty(T, S, B, H)
    inputs, act, cell, tanh_cell = inputs_t.numpy(), act_t.numpy(), cell_t.numpy(), tanh_cell_t.numpy()
    hidden = np.empty((T, S, B, H), np.float32)
    out = np.empty((T, S, B, A + 1), np.float32)
    choice = np.empty((S, B), np.int64)
    choice_t = torch.from_numpy(choice)

    memory = build_memory(config, task, (S, B), H)
    k = config.model.knn_k if config.model.retrieval == "knn" else 1
    neighbours = np.zeros((T, S, B, k), np.int64)
    neighbour_weights = np.zeros((T, S, B, k), np.float32)
    tanh_memory_t = torch.zeros(T, S, B, H) if memory is not None else torch.zeros(1, 1, 1, 1)
    tanh_memory = tanh_memory_t.numpy()
    read_step = np.zeros(T, np.bool_)
    write_entry = np.full(T, -1, np.int64)
    before = np.empty((S, B, H), np.float32)

    rewards, outcomes = [], []
    for t in range(T):
        inputs_t[t, ..., :IN] = observation
        torch.bmm(inputs_t[t], weight, out=act_t[t])
        torch.sigmoid_(act_t[t, ..., :n_sigmoid])
        torch.tanh_(act_t[t, ..., n_sigmoid:])
        query = task.read_key(t) if memory is not None else None
        if query is not None:
            retrieval = memory.read(query)
            torch.tanh(retrieval.value, out=tanh_memory_t[t])
            width = retrieval.neighbours.shape[-1]
            neighbours[t, ..., :width] = retrieval.neighbours.numpy()
            neighbour_weights[t, ..., :width] = retrieval.weights.numpy()
            read_step[t] = True
        compiled.cell_update(t, H, act, cell, tanh_memory, query is not None, before)
        key = task.write_key(t) if memory is not None else None
        if key is not None:
            write_entry[t] = len(memory)
            memory.write(key, torch.from_numpy(before.copy()))
        torch.tanh(cell_t[t + 1], out=tanh_cell_t[t])
        compiled.output_step(t, IN, H, act, tanh_cell, hidden, inputs, head_weight, head_bias,
                             out, noise, choice)
        outcome, observation = task.step(choice_t.clone())
        rewards.append(outcome.reward)
        outcomes.append(outcome)
    trace = Trace(IN, H, inputs, act, cell, tanh_cell, hidden, out, read_step, write_entry,
                  neighbours, neighbour_weights, tanh_memory,
                  len(memory) if memory is not None else 0)
    return trace, weight, torch.stack(rewards, dim=-1), outcomes


class _EpisodeBackprop(torch.autograd.Function):
    """The head outputs ``[S, B, T, A + 1]`` of a played batch as a function of the
    network's parameters; its backward is :func:`twostep.core.compiled.backward_episode`."""

    @staticmethod
    def forward(ctx, weight, bias, head_weight, head_bias, trace, weight_with_bias, route_memory):
        ctx.trace, ctx.weight_with_bias, ctx.route_memory = trace, weight_with_bias, route_memory
        ctx.head_weight = head_weight.detach()
        return torch.from_numpy(trace.out).permute(1, 2, 0, 3)

    @staticmethod
    def backward(ctx, d_out):
        from twostep.core import compiled

        trace, weight = ctx.trace, ctx.weight_with_bias
        d_weight = torch.empty_like(weight)
        d_head_weight = torch.empty_like(ctx.head_weight)
        d_head_bias = torch.empty(d_head_weight.shape[0], d_head_weight.shape[-1])
        compiled.backward_episode(
            trace.input_size, trace.hidden_size, weight.numpy(), ctx.head_weight.numpy(),
            trace.inputs, trace.act, trace.cell, trace.tanh_cell, trace.hidden,
            d_out.contiguous().numpy(), trace.read_step, trace.write_entry, trace.neighbours,
            trace.neighbour_weights, trace.tanh_memory, trace.n_entries, ctx.route_memory,
            d_weight.numpy(), d_head_weight.numpy(), d_head_bias.numpy())
        rows = trace.input_size + trace.hidden_size
        return d_weight[:, :rows], d_weight[:, rows], d_head_weight, d_head_bias, None, None, None


def play_compiled(model: RecurrentActorCritic, task: TwoStepTask, config: ExperimentConfig,
                  generators: list[torch.Generator], batch_size: int,
                  record_internals: bool = False) -> Rollout:
    """:func:`twostep.core.rollout.play` on the compiled engine (CPU): the same episodes and
    the same :class:`~twostep.core.rollout.Rollout`; with grad enabled, its tensors lead
    back to the parameters through one hand-written backward pass."""
    if model.weight.device.type != "cpu":
        raise TwostepError("the compiled engine runs on the CPU only")
    trace, weight, reward, outcomes = _forward(model, task, config, generators, batch_size)
    if torch.is_grad_enabled():
        route = trace.n_entries > 0 and not config.model.detach_stored_values
        out = _EpisodeBackprop.apply(model.weight, model.bias, model.head_weight, model.head_bias,
                                     trace, weight, route)
    else:
        out = torch.from_numpy(trace.out).permute(1, 2, 0, 3)
    A = model.n_actions
    choices = torch.stack([o.choice for o in outcomes], dim=-1)
    log_pi = torch.log_softmax(out[..., :A], dim=-1)
    log_prob = log_pi.gather(-1, choices.unsqueeze(-1)).squeeze(-1)
    entropy = -(log_pi.exp() * log_pi).sum(-1)
    internals = _internals(trace, model) if record_internals else {}
    return Rollout(log_prob, entropy, out[..., A], reward, outcomes, internals)


def _internals(trace: Trace, model: RecurrentActorCritic) -> dict[str, torch.Tensor]:
    """What :func:`twostep.core.rollout.play` records with ``record_internals``, from the trace."""
    H, IN = trace.hidden_size, trace.input_size

    def seed_major(array: np.ndarray) -> torch.Tensor:  # [T, S, B, ...] -> [S, B, T, ...]
        return torch.from_numpy(np.ascontiguousarray(np.moveaxis(array, 0, 2)))

    retrieved = np.where(trace.read_step[:, None, None], trace.neighbours[..., 0], -1)
    internals = {"observation": seed_major(trace.inputs[..., :IN]),
                 "hidden": seed_major(trace.hidden),
                 "retrieved_trial": seed_major(retrieved)}
    if model.reinstatement:
        internals["reinstatement_gate"] = seed_major(trace.act[..., 3 * H:4 * H].mean(-1))
    return internals


PLAY = {"reference": play, "compiled": play_compiled}
"""The play function of each engine."""
