"""Keras's attention layers: ``Attention`` (Luong) and ``AdditiveAttention`` (Bahdanau).

Both are called on ``[query, value]`` or ``[query, value, key]`` (key defaults to value)::

    query (batch, Tq, dim), value (batch, Tv, dim_v), key (batch, Tv, dim)
    scores  s_ij  = score(q_i, k_j)                              (batch, Tq, Tv)
    weights a_ij  = softmax_j(s_ij)   (masked j excluded)        (batch, Tq, Tv)
    output  o_i   = sum_j a_ij v_j                               (batch, Tq, dim_v)

Scores (Luong et al. 2015; Bahdanau et al. 2015), with the layer's scalar or vector
weights ``scale`` and ``concat_score_weight``:

    Attention, score_mode="dot":     s_ij = scale * (q_i . k_j)
    Attention, score_mode="concat":  s_ij = concat_score_weight * sum(tanh(scale * (q_i + k_j)))
    AdditiveAttention:               s_ij = sum(scale * tanh(q_i + k_j))      scale: (dim,)

(each ``scale`` only with ``use_scale=True``, else 1). Masks, as in Keras 3: the value
mask (batch, Tv) and the causal mask (j <= i, ``use_causal_mask=True``) subtract 1e9
from the scores of excluded positions before the softmax (a row with no position left
therefore spreads evenly over all of them); the query mask (batch, Tq) zeroes the
output rows of masked queries and is the output's mask. Masks from
``Embedding(mask_zero=True)`` or ``Masking`` arrive on their own. A key shares the
value's positions, so, as in Keras, a third (key) mask is not consulted: the value mask
decides.
"""
from __future__ import annotations

import numbers

import numpy as np

from rnnkit import functional as F
from rnnkit._tensor import Tensor
from rnnkit.keras.layer import Layer

SCORE_MODES = ("dot", "concat")
# Keras's bias for excluded positions: exp(-1e9) is 0 in any float, and a fully masked
# row stays finite (uniform) instead of 0/0.
_EXCLUDED = 1.0e9


class Attention(Layer):
    """Dot-product (Luong-style) attention; see the module docstring for the formulas.

    use_scale: learn a scalar ``scale`` (initialised to 1) multiplying the scores.
    score_mode: "dot" (q . k) or "concat" (a tanh of q + k summed over features, times
        a learnt scalar ``concat_score_weight``).
    dropout: fraction of the attention weights dropped while training (then rescaled
        by 1 / (1 - dropout)); none at inference. seed: the dropout's seed.

    Call: ``layer([query, value(, key)], mask=None, training=False,
    return_attention_scores=False, use_causal_mask=False)`` -> output
    (batch, Tq, dim_v), and with return_attention_scores also the weights a
    (batch, Tq, Tv) after masking, softmax and dropout.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in SCORE_MODES:
            raise ValueError(f"{type(self).__name__}: score_mode must be one of "
                             f"{SCORE_MODES}, got {score_mode!r}")
        if (isinstance(dropout, bool) or not isinstance(dropout, numbers.Real)
                or not 0 <= dropout < 1):
            raise ValueError(f"{type(self).__name__}: dropout must be a fraction in [0, 1), "
                             f"got {dropout!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"{type(self).__name__}: seed must be an integer or None, got "
                             f"{seed!r}")
        self.use_scale, self.score_mode = bool(use_scale), score_mode
        self.dropout, self.seed = float(dropout), seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.scale = self.concat_score_weight = None
        self.supports_masking = True

    # -- inputs ---------------------------------------------------------------------------
    def _split(self, inputs):
        """(query, value, key) from the input list, or a ValueError saying what is wrong."""
        name = self.name
        if (not isinstance(inputs, (list, tuple)) or _is_shape(inputs)
                or not 2 <= len(inputs) <= 3):
            raise ValueError(f"{name}: expected a list [query, value] or [query, value, "
                             f"key], got {_describe(inputs)}")
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        return q, v, k

    def _check_shapes(self, q, v, k):
        """Shapes (tuples, None = unknown) must be query (batch, Tq, dim), value
        (batch, Tv, dim_v), key (batch, Tv, dim)."""
        for arg, shape in (("query", q), ("value", v), ("key", k)):
            if len(shape) != 3:
                raise ValueError(f"{self.name}: {arg} must have shape (batch, time, "
                                 f"features), got shape {tuple(shape)}")

        def differ(a, b):
            return a is not None and b is not None and a != b

        if differ(q[0], v[0]) or differ(q[0], k[0]):
            raise ValueError(f"{self.name}: query, value and key must have the same batch "
                             f"size, got shapes {tuple(q)}, {tuple(v)} and {tuple(k)}")
        if differ(v[1], k[1]):
            raise ValueError(f"{self.name}: value and key must have the same number of "
                             f"steps Tv, got value {tuple(v)} and key {tuple(k)}")
        if differ(q[2], k[2]):
            raise ValueError(f"{self.name}: query and key must have the same number of "
                             f"features, got query {tuple(q)} and key {tuple(k)}")

    def _masks(self, mask, q, v):
        """(query_mask (batch, Tq) or None, value_mask (batch, Tv) or None)."""
        if mask is None:
            return None, None
        if not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3:
            raise ValueError(f"{self.name}: mask must be a list [query_mask, value_mask], "
                             f"got {_describe(mask)}")
        out = []
        for arg, m, x in (("query_mask", mask[0], q), ("value_mask", mask[1], v)):
            if m is not None:
                m = np.asarray(getattr(m, "data", m))
                if m.shape != x.shape[:2]:
                    raise ValueError(f"{self.name}: {arg} must have shape (batch, time) = "
                                     f"{x.shape[:2]}, got shape {m.shape}")
                m = m.astype(bool, copy=False)
            out.append(m)
        return tuple(out)

    # -- the layer ------------------------------------------------------------------------
    def build(self, input_shape):
        self._check_shapes(*(tuple(s) for s in self._split(input_shape)))
        if self.use_scale:
            self.scale = self.add_weight("scale", (), "ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", (), "ones")
        self.built = True

    def _scores(self, q, k):
        """Scores (batch, Tq, Tv) of queries (batch, Tq, dim) against keys (batch, Tv, dim)."""
        if self.score_mode == "dot":
            scores = F.matmul(q, F.transpose(k, -2, -1))
            return scores * self.scale if self.scale is not None else scores
        pairs = F.unsqueeze(q, -2) + F.unsqueeze(k, -3)     # (batch, Tq, Tv, dim)
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * F.sum(F.tanh(pairs), -1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):
        q, v, k = self._split(inputs)
        self._check_shapes(q.shape, v.shape, k.shape)
        for arg, x in (("query", q), ("value", v), ("key", k)):
            if x.dtype.kind != "f":
                raise TypeError(f"{self.name}: {arg} must be floating point, got dtype "
                                f"{x.dtype}")
        q_mask, v_mask = self._masks(mask, q, v)
        scores = self._scores(q, k)
        excluded = None if v_mask is None else ~v_mask[:, None, :]        # (batch, 1, Tv)
        if use_causal_mask:
            Tq, Tv = scores.shape[-2:]
            future = np.arange(Tv)[None, :] > np.arange(Tq)[:, None]      # j > i
            excluded = future[None] if excluded is None else excluded | future[None]
        if excluded is not None:
            # Adding -1e9 rounds exactly like Keras's scores - 1e9.
            scores = scores + Tensor(np.where(excluded, -_EXCLUDED, 0.0).astype(scores.dtype))
        weights = F.softmax(scores, -1)
        if training and self.dropout > 0:
            weights = F.dropout(weights, self.dropout, training=True, generator=self._rng)
        out = F.matmul(weights, v)
        if q_mask is not None:
            out = out * Tensor(q_mask[..., None].astype(out.dtype))
        return [out, weights] if return_attention_scores else out

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return np.asarray(getattr(mask[0], "data", mask[0]), bool)

    def _symbolic_mask(self, in_mask):
        return bool(in_mask[0]) if isinstance(in_mask, (list, tuple)) else False

    def _shape_kwargs(self, kwargs):
        return {"return_attention_scores": bool(kwargs.get("return_attention_scores"))}

    def compute_output_shape(self, input_shape, return_attention_scores=False, **kwargs):
        q, v, k = (tuple(s) for s in self._split(input_shape))
        self._check_shapes(q, v, k)
        out = q[:-1] + (v[-1],)
        return [out, q[:-1] + (k[-2],)] if return_attention_scores else out

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention: s_ij = sum(scale * tanh(q_i + k_j)) over the
    features; see the module docstring for shapes and masks.

    use_scale: learn ``scale`` (dim,) (Glorot-uniform initialised), else scale = 1.
    dropout, seed: dropout on the attention weights while training, as in ``Attention``.
    Called like ``Attention``.
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        if "score_mode" in kwargs:
            raise TypeError("AdditiveAttention: score_mode is not an argument of additive "
                            "attention (its score is always sum(scale * tanh(q + k))); use "
                            "Attention(score_mode=...) for the others")
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    def build(self, input_shape):
        q, v, k = (tuple(s) for s in self._split(input_shape))
        self._check_shapes(q, v, k)
        if self.use_scale:
            if q[-1] is None:
                raise ValueError(f"{self.name}: the query's number of features must be "
                                 f"known to build scale, got query shape {q}")
            self.scale = self.add_weight("scale", (q[-1],), "glorot_uniform")
        self.built = True

    def _scores(self, q, k):
        pairs = F.tanh(F.unsqueeze(q, -2) + F.unsqueeze(k, -3))   # (batch, Tq, Tv, dim)
        if self.scale is not None:
            pairs = self.scale * pairs
        return F.sum(pairs, -1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config


def _is_shape(x):
    """True for one shape (a tuple of sizes), as build() gets for a single tensor."""
    return isinstance(x, tuple) and all(d is None or isinstance(d, (int, np.integer))
                                        for d in x)


def _describe(x):
    if _is_shape(x):
        return f"one tensor of shape {x}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of {len(x)}"
    return f"{type(x).__name__} of shape {tuple(np.shape(x))}" if hasattr(x, "shape") \
        else repr(x)
