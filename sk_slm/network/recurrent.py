"""Running a torch RNN over right-padded batches as if they were packed sequences.

torch's CPU LSTM and GRU take their fast oneDNN kernels on a padded tensor, but fall
back to a step-by-step loop on a ``PackedSequence``, whose backward pass is many times
slower (pytorch/pytorch#149194; 4-10x here, growing with length). Packing is only
needed so that each direction of the RNN reads real tokens alone. On right-padded
input the forward direction already does; the backward direction does when each
sequence is reversed within its own length, so that its last real token comes first
and the padding stays at the end. :func:`rnn_states` runs each layer and direction so,
through :func:`torch.func.functional_call` with the RNN's own weights: the same model
and the same numbers as the packed computation, at the padded speed.
"""

from __future__ import annotations

import threading

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["rnn_states", "packed_rnn_states"]

# The per-layer weight names of torch's RNN modules, without the "_l{k}[_reverse]" suffix.
_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def rnn_states(rnn: nn.RNNBase, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Outputs of ``rnn`` over right-padded ``inputs``, as over the packed sequences.

    Parameters
    ----------
    rnn : torch.nn.LSTM or torch.nn.GRU
        With ``batch_first=True``; any number of layers, one or two directions.
    inputs : Tensor of shape (batch, time, features)
        Each row's real steps first, then padding (whose values do not matter).
    lengths : Tensor of shape (batch,)
        Real steps per row, each at least 1.

    Returns
    -------
    Tensor of shape (batch, time, directions * hidden_size)
        Each direction reads only the real steps of its row (the backward one from the
        row's last real step); zero at padding. Equal to running ``rnn`` on
        ``pack_padded_sequence(inputs, lengths)`` (:func:`packed_rnn_states`). On a
        CUDA device that is what runs: cuDNN reads packed sequences natively.
    """
    if not rnn.batch_first or getattr(rnn, "proj_size", 0):
        raise ValueError("rnn_states needs an RNN with batch_first=True and no proj_size.")
    if inputs.is_cuda:
        return packed_rnn_states(rnn, inputs, lengths)
    lengths = lengths.to(inputs.device)
    steps = torch.arange(inputs.shape[1], device=inputs.device)[None, :]
    real = steps < lengths[:, None]
    # Position t of the reversed row holds step length - 1 - t; padding stays in place.
    reverse = torch.where(real, lengths[:, None] - 1 - steps, steps)
    directions = 2 if rnn.bidirectional else 1
    states = inputs
    for layer in range(rnn.num_layers):
        if layer and rnn.dropout:
            states = F.dropout(states, rnn.dropout, training=rnn.training)
        one_way = _one_way(rnn, states.shape[-1])
        outputs = []
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            weights = {f"{name}_l0": getattr(rnn, name + suffix)
                       for name in _WEIGHTS if hasattr(rnn, name + suffix)}
            seq = _reorder(states, reverse) if direction else states
            out = functional_call(one_way, weights, (seq,))[0]
            outputs.append(_reorder(out, reverse) if direction else out)
        states = torch.cat(outputs, dim=-1) if directions == 2 else outputs[0]
    return states * real[..., None]


def packed_rnn_states(rnn: nn.RNNBase, inputs: torch.Tensor,
                      lengths: torch.Tensor) -> torch.Tensor:
    """The same outputs as :func:`rnn_states`, through ``pack_padded_sequence``."""
    # After unpickling on a GPU, cuDNN wants the weights in one chunk again (no-op on
    # the CPU and when they already are).
    rnn.flatten_parameters()
    packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True,
                                  enforce_sorted=False)
    states, _ = rnn(packed)
    states, _ = pad_packed_sequence(states, batch_first=True, total_length=inputs.shape[1])
    return states


_ONE_WAY = threading.local()  # each thread's own one-way RNNs (functional_call swaps weights in)


def _one_way(rnn: nn.RNNBase, input_size: int) -> nn.RNNBase:
    """A one-layer, one-direction RNN of ``rnn``'s kind, without storage of its own
    (meta device): :func:`functional_call` runs it with one layer's weights. Kept per
    thread (building one costs ~0.4 ms), so that threads never share one."""
    cache = getattr(_ONE_WAY, "modules", None)
    if cache is None:
        cache = _ONE_WAY.modules = {}
    key = (type(rnn), input_size, rnn.hidden_size, rnn.bias)
    if key not in cache:
        cache[key] = type(rnn)(input_size, rnn.hidden_size, bias=rnn.bias,
                               batch_first=True, device="meta")
    return cache[key]


def _reorder(states: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``states[b, index[b, t]]`` for every row ``b`` and step ``t``."""
    return states.gather(1, index[..., None].expand(-1, -1, states.shape[-1]))
