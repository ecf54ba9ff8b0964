r"""The compiled engine's kernels: the parts of a training update that are many tiny
operations, written as loops and compiled once by Numba (cached on disk).

:mod:`twostep.core.engine` plays an episode batch with these kernels and PyTorch's
vectorised matrix products and nonlinearities, and back-propagates through the whole
episode in one call of :func:`backward_episode`. The equations are those of
:mod:`twostep.core.models` (the cell and the heads) and :mod:`twostep.core.memory` (the
DND); the gradients below are their derivatives, written out.

Arrays are time-major, ``[T, S, B, ...]`` (trials, seeds, episodes), float32.
``act[t]`` holds the gate activations of step ``t`` in the model's column order
``i, f, o[, r], g`` (:math:`σ` of the first blocks, :math:`\tanh` of the last).

**Forward, step t** (:func:`cell_update`, then :func:`output_step`)::

    c̃_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t                  the cell before reinstatement
    c_t = c̃_t + r_t ⊙ tanh(m_t)                       (only where memory was read)
    h_t = o_t ⊙ tanh(c_t)
    [logits_t, V_t] = W_head h_t + b_head
    a_t = #{ j < A-1 : u_t ≥ Σ_{k≤j} softmax(logits_t)_k }   inverse-CDF sampling

**Backward** (:func:`backward_episode`), given :math:`\bar{y} = ∂L/∂[logits, V]` for
every step (from autograd, through the A2C loss), in reverse time. With
:math:`\bar{x}` the gradient of the loss with respect to :math:`x`::

    h̄_t = W_headᵀ ȳ_t + W_hᵀ z̄_{t+1}               (z: the gate pre-activations)
    c̄_t = c̄'_{t+1} + h̄_t ⊙ o_t ⊙ (1 - tanh² c_t)
    ō_t = h̄_t ⊙ tanh c_t          r̄_t = c̄_t ⊙ tanh m_t
    m̄_t = c̄_t ⊙ r_t ⊙ (1 - tanh² m_t)       → added to the stored value it was read from
    c̃̄_t = c̄_t + v̄_t                        (v̄_t: gradient reaching the value stored at t)
    ī_t = c̃̄_t ⊙ g_t    f̄_t = c̃̄_t ⊙ c_{t-1}    ḡ_t = c̃̄_t ⊙ i_t
    z̄_t = [ī σ'(i), f̄ σ'(f), ō σ'(o), r̄ σ'(r), ḡ (1 - g²)],   σ'(x) = x (1 - x)
    c̄'_t = c̃̄_t ⊙ f_t                        (what flows to c_{t-1})

    W̄ = Σ_t [x_t, h_{t-1}, 1]ᵀ z̄_t          (weights and bias in one product)
    W̄_head = Σ_t h_tᵀ ȳ_t

A read value :math:`m_t = Σ_j w_j v_{n_j}` (1-NN: one neighbour, weight 1) sends
:math:`w_j \bar{m}_t` to stored value :math:`v_{n_j}`, the cell state :math:`c̃` of the step
that wrote it; reads come after writes in time, so the reverse sweep meets every
read before the write it draws on. With ``detach_stored_values`` nothing is routed.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, fastmath=True)
def cell_update(t, hidden_size, act, cell, tanh_memory, read, before):  # pragma: no cover (compiled)
    """``cell[t + 1] = f ⊙ cell[t] + i ⊙ g (+ r ⊙ tanh m)``; ``before`` gets c̃_t ``[S, B, H]``."""
    H = hidden_size
    _, S, B, G = act.shape
    n_sigmoid = G - H
    for s in range(S):
        for b in range(B):
            for h in range(H):
                c = act[t, s, b, H + h] * cell[t, s, b, h] + act[t, s, b, h] * act[t, s, b, n_sigmoid + h]
                before[s, b, h] = c
                if read:
                    c += act[t, s, b, 3 * H + h] * tanh_memory[t, s, b, h]
                cell[t + 1, s, b, h] = c


@njit(cache=True, fastmath=True)
def output_step(t, input_size, hidden_size, act, tanh_cell, hidden, inputs, head_weight,
                head_bias, out, noise, choice):  # pragma: no cover (compiled)
    """``h_t = o ⊙ tanh c_t`` (also written into the next step's input), the heads, and the
    sampled choice ``[S, B]`` from the uniforms ``noise[s, b, t]``."""
    IN, H = input_size, hidden_size
    T, S, B, _ = inputs.shape
    n_out = head_weight.shape[-1]
    n_actions = n_out - 1
    weights = np.empty(n_actions, np.float32)
    for s in range(S):
        for b in range(B):
            for h in range(H):
                value = act[t, s, b, 2 * H + h] * tanh_cell[t, s, b, h]
                hidden[t, s, b, h] = value
                if t + 1 < T:
                    inputs[t + 1, s, b, IN + h] = value
            for a in range(n_out):
                acc = head_bias[s, a]
                for h in range(H):
                    acc += hidden[t, s, b, h] * head_weight[s, h, a]
                out[t, s, b, a] = acc
            largest = out[t, s, b, 0]
            for a in range(1, n_actions):
                largest = max(largest, out[t, s, b, a])
            total = np.float32(0.0)
            for a in range(n_actions):
                weights[a] = np.exp(out[t, s, b, a] - largest)
                total += weights[a]
            cdf = np.float32(0.0)
            chosen = 0
            for a in range(n_actions - 1):
                cdf += weights[a] / total
                if noise[s, b, t] >= cdf:
                    chosen += 1
            choice[s, b] = chosen


@njit(cache=True, fastmath=True)
def backward_episode(input_size, hidden_size, weight, head_weight, inputs, act, cell, tanh_cell,
                     hidden, d_out, read_step, write_entry, neighbours, neighbour_weights,
                     tanh_memory, n_entries, route_memory, d_weight, d_head_weight,
                     d_head_bias):  # pragma: no cover (compiled)
    """Back-propagation through time over a whole episode batch, seed by seed.

    ``weight``: ``[S, I + H + 1, G]`` (the bias as its last row); ``d_out``: ``[S, B, T, A + 1]``.
    Writes ``d_weight`` (same shape as ``weight``), ``d_head_weight``, ``d_head_bias``.
    """
    IN, H = input_size, hidden_size
    T, S, B, width = inputs.shape
    G = weight.shape[-1]
    n_sigmoid = G - H
    n_out = head_weight.shape[-1]
    reinstates = n_sigmoid == 4 * H
    n_neighbours = neighbours.shape[-1]
    d_gates = np.empty((T, B, G), np.float32)
    seed_inputs = np.empty((T, B, width), np.float32)
    seed_hidden = np.empty((T, B, H), np.float32)
    d_out_flat = np.empty((T * B, n_out), np.float32)
    d_hidden = np.zeros((B, H), np.float32)
    d_cell = np.empty(H, np.float32)
    d_memory = np.empty(H, np.float32)
    d_cell_next = np.zeros((B, H), np.float32)
    d_stored = np.zeros((B, max(n_entries, 1), H), np.float32)
    for s in range(S):
        for t in range(T):
            for b in range(B):
                for a in range(n_out):
                    d_out_flat[t * B + b, a] = d_out[s, b, t, a]
                seed_inputs[t, b, :] = inputs[t, s, b, :]
                seed_hidden[t, b, :] = hidden[t, s, b, :]
        np.dot(seed_hidden.reshape(T * B, H).T, d_out_flat, d_head_weight[s])
        for a in range(n_out):
            d_head_bias[s, a] = d_out_flat[:, a].sum()
        d_hidden_heads = np.dot(d_out_flat, np.ascontiguousarray(head_weight[s].T))  # [T*B, H]
        recurrent_t = np.ascontiguousarray(weight[s, IN:IN + H, :].T)                  # [G, H]
        d_cell_next[:] = 0.0
        d_hidden[:] = 0.0
        d_stored[:] = 0.0
        for t in range(T - 1, -1, -1):
            read = read_step[t]
            entry = write_entry[t] if route_memory else -1
            gates = act[t, s]            # [B, G]
            tanh_c = tanh_cell[t, s]     # [B, H]
            previous_cell = cell[t, s]   # [B, H], c_{t-1}
            d_z = d_gates[t]             # [B, G]
            for b in range(B):
                row = t * B + b
                for h in range(H):
                    dh = d_hidden[b, h] + d_hidden_heads[row, h]
                    tc = tanh_c[b, h]
                    o = gates[b, 2 * H + h]
                    d_cell[h] = d_cell_next[b, h] + dh * o * (1 - tc * tc)
                    d_z[b, 2 * H + h] = dh * tc * o * (1 - o)
                if reinstates:
                    if read:
                        tanh_m = tanh_memory[t, s]
                        for h in range(H):
                            r = gates[b, 3 * H + h]
                            tm = tanh_m[b, h]
                            d_z[b, 3 * H + h] = d_cell[h] * tm * r * (1 - r)
                            d_memory[h] = d_cell[h] * r * (1 - tm * tm)
                        if route_memory:
                            for j in range(n_neighbours):
                                w = neighbour_weights[t, s, b, j]
                                n = neighbours[t, s, b, j]
                                for h in range(H):
                                    d_stored[b, n, h] += w * d_memory[h]
                    else:
                        for h in range(H):
                            d_z[b, 3 * H + h] = 0.0
                if entry >= 0:
                    for h in range(H):
                        d_cell[h] += d_stored[b, entry, h]
                for h in range(H):
                    dc = d_cell[h]
                    i = gates[b, h]
                    f = gates[b, H + h]
                    g = gates[b, n_sigmoid + h]
                    d_z[b, h] = dc * g * i * (1 - i)
                    d_z[b, H + h] = dc * previous_cell[b, h] * f * (1 - f)
                    d_z[b, n_sigmoid + h] = dc * i * (1 - g * g)
                    d_cell_next[b, h] = dc * f
            if t:
                np.dot(d_z, recurrent_t, d_hidden)
        np.dot(seed_inputs.reshape(T * B, width).T, d_gates.reshape(T * B, G), d_weight[s])
