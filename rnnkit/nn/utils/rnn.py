"""Variable-length batches: padding and PyTorch's ``PackedSequence``.

A packed batch stores only the valid steps: ``data`` (sum of lengths, *) holds, time step
by time step, the rows of the sequences still running, longest first; ``batch_sizes[t]``
counts them. ``sorted_indices`` maps that longest-first order to the caller's batch order
and ``unsorted_indices`` back. Every conversion here is a differentiable gather.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from rnnkit import functional as F
from rnnkit._tensor import Tensor, as_tensor


class PackedSequence(NamedTuple):
    """PyTorch's packed batch: data (sum(lengths), *), batch_sizes (max_len,) int64,
    sorted_indices and unsorted_indices (batch,) int64 or None (already sorted)."""

    data: Tensor
    batch_sizes: np.ndarray
    sorted_indices: Optional[np.ndarray] = None
    unsorted_indices: Optional[np.ndarray] = None

    def lengths(self):
        """Length of every sequence, in the caller's batch order: (batch,) int64."""
        bs = np.asarray(self.batch_sizes)
        sorted_lengths = (bs[None, :] > np.arange(bs[0])[:, None]).sum(axis=1)
        if self.unsorted_indices is None:
            return sorted_lengths
        return sorted_lengths[np.asarray(self.unsorted_indices)]

    def _order(self):
        n = int(np.asarray(self.batch_sizes)[0])
        s = np.arange(n) if self.sorted_indices is None else np.asarray(self.sorted_indices)
        return s


def _lengths_array(lengths, batch):
    lengths = np.asarray(getattr(lengths, "data", lengths))
    if hasattr(lengths, "numpy") and not isinstance(lengths, np.ndarray):
        lengths = lengths.numpy()
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.shape[0] != batch or lengths.dtype.kind not in "iu":
        raise ValueError(f"lengths: expected {batch} integers (one per sequence), got "
                         f"shape {lengths.shape} and dtype {lengths.dtype}")
    return lengths.astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch. input: (time, batch, *) or (batch, time, *) with batch_first;
    lengths: (batch,) ints in [1, time]. With ``enforce_sorted`` they must be decreasing.
    """
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input has shape {x.shape}, expected "
                         f"(time, batch, *) or (batch, time, *)")
    if batch_first:
        x = F.transpose(x, 0, 1)
    T, B = x.shape[0], x.shape[1]
    lengths = _lengths_array(lengths, B)
    if lengths.min() < 1 or lengths.max() > T:
        raise ValueError(f"pack_padded_sequence: lengths must lie in [1, {T}] (the time "
                         f"dimension), got {lengths.tolist()}")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ValueError(f"pack_padded_sequence: lengths {lengths.tolist()} are not "
                             f"sorted in decreasing order; pass enforce_sorted=False")
        sorted_indices = unsorted = None
        order = np.arange(B)
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices, unsorted = order, np.argsort(order)
    sl = lengths[order]
    batch_sizes = (sl[None, :] > np.arange(sl[0])[:, None]).sum(axis=1).astype(np.int64)
    t_idx = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    s_idx = np.concatenate([np.arange(n) for n in batch_sizes])
    data = F.getitem(x, (t_idx, order[s_idx]))
    return PackedSequence(data, batch_sizes, sorted_indices, unsorted)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo :func:`pack_padded_sequence`: returns (padded, lengths).

    padded: (time, batch, *) (batch first if asked) in the caller's batch order, with
    ``padding_value`` after each sequence's end; time = ``total_length`` if given.
    lengths: (batch,) int64.
    """
    data = as_tensor(sequence.data)
    bs = np.asarray(sequence.batch_sizes)
    T = len(bs)
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is less "
                             f"than the longest sequence ({T})")
        T = total_length
    order = sequence._order()
    B = len(order)
    offsets = np.concatenate([[0], np.cumsum(bs)[:-1]])
    pos = np.empty(B, dtype=np.int64)
    pos[order] = np.arange(B)                  # each caller's row -> its sorted position
    idx = np.full((T, B), data.shape[0], dtype=np.int64)   # default: the padding row
    for t in range(len(bs)):
        live = pos < bs[t]
        idx[t, live] = offsets[t] + pos[live]
    pad = Tensor(np.full((1,) + data.shape[1:], padding_value, dtype=data.dtype))
    padded = F.getitem(F.concat([data, pad], 0), idx)
    if batch_first:
        padded = F.transpose(padded, 0, 1)
    return padded, sequence.lengths()


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (L_i, *) into (max L, batch, *) (or batch first), padded."""
    seqs = [as_tensor(s) for s in sequences]
    if not seqs:
        raise ValueError("pad_sequence: expected a non-empty list of sequences")
    trail = seqs[0].shape[1:]
    if any(s.ndim < 1 or s.shape[1:] != trail for s in seqs):
        raise ValueError(f"pad_sequence: sequences must share their trailing dimensions, "
                         f"got shapes {[s.shape for s in seqs]}")
    if padding_side not in ("right", "left"):
        raise ValueError(f"padding_side: expected 'right' or 'left', got {padding_side!r}")
    T = max(s.shape[0] for s in seqs)
    rows = []
    for s in seqs:
        n = T - s.shape[0]
        if n:
            pad = Tensor(np.full((n,) + trail, padding_value, dtype=s.dtype))
            s = F.concat([s, pad] if padding_side == "right" else [pad, s], 0)
        rows.append(s)
    return F.stack(rows, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of (L_i, *) sequences (see :func:`pack_padded_sequence`)."""
    lengths = np.array([as_tensor(s).shape[0] for s in sequences], dtype=np.int64)
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed):
    """The list of (L_i, *) sequences inside a PackedSequence, in the caller's order."""
    padded, lengths = pad_packed_sequence(packed)
    return [padded[:n, i] for i, n in enumerate(lengths)]
