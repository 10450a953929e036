"""Float64 NumPy references for the recurrent layers: one step of each cell and Keras's masked loop."""
from __future__ import annotations

import numpy as np


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def simple_rnn_step(x, states, kernel, recurrent_kernel, bias, activation=np.tanh):
    h = activation(x @ kernel + states[0] @ recurrent_kernel + (0 if bias is None else bias))
    return h, [h]


def lstm_step(x, states, kernel, recurrent_kernel, bias):
    h, c = states
    z = x @ kernel + h @ recurrent_kernel + (0 if bias is None else bias)
    i, f, g, o = np.split(z, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    h = sigmoid(o) * np.tanh(c)
    return h, [h, c]


def gru_step(x, states, kernel, recurrent_kernel, bias, reset_after=True):
    h = states[0]
    if reset_after:
        x_z, x_r, x_h = np.split(x @ kernel + bias[0], 3, axis=-1)
        r_z, r_r, r_h = np.split(h @ recurrent_kernel + bias[1], 3, axis=-1)
        z, r = sigmoid(x_z + r_z), sigmoid(x_r + r_r)
        hh = np.tanh(x_h + r * r_h)
    else:
        x_z, x_r, x_h = np.split(x @ kernel + bias, 3, axis=-1)
        k_z, k_r, k_h = np.split(recurrent_kernel, 3, axis=-1)
        z, r = sigmoid(x_z + h @ k_z), sigmoid(x_r + h @ k_r)
        hh = np.tanh(x_h + (r * h) @ k_h)
    h = z * h + (1 - z) * hh
    return h, [h]


def run_rnn(step, x, states, mask=None, go_backwards=False, zero_output_for_mask=False):
    """Keras's loop in float64: ``(last_output, outputs in processing order, final states)``.

    At a masked step the states are kept and the output is the previous
    output (zeros before any valid step), or zeros with ``zero_output_for_mask``.
    """
    x = np.asarray(x, np.float64)
    states = [np.asarray(s, np.float64) for s in states]
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    previous = None
    outputs = []
    for t in steps:
        out, new = step(x[:, t], states)
        if mask is not None:
            keep = np.asarray(mask)[:, t][:, None]
            new = [np.where(keep, n, s) for n, s in zip(new, states)]
            previous = np.zeros_like(out) if previous is None else previous
            previous = np.where(keep, out, previous)
            out = np.where(keep, out, 0.0) if zero_output_for_mask else previous
        states = new
        outputs.append(out)
    return outputs[-1], np.stack(outputs, 1), states
