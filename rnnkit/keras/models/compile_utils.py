"""What ``compile(loss=..., metrics=...)`` turns into: one loss and a list of metrics per
model output, resolved against the outputs the first time data arrives.

Loss, Keras's way: each output's loss object reduces its per-sample values with the
sample weights (``sum(values * w) / n``), is multiplied by its ``loss_weights`` entry,
and the outputs' losses are summed. With several outputs each output's *unweighted* loss
is also tracked as ``<output name>_loss``.

Metrics: a list (one output), or a list of lists / a dict by output name (several
outputs, logged as ``<output name>_<metric>``). ``metrics`` never see sample weights;
``weighted_metrics`` do. Both see the mask of the predictions.
"""
from __future__ import annotations

from rnnkit.keras import losses as losses_module
from rnnkit.keras import metrics as metrics_module


def per_output(spec, names, what):
    """``spec`` spread over the outputs ``names``: one entry per output (None = none)."""
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(f"compile: {what} names unknown output(s) {unknown}; the "
                             f"outputs are {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)) and len(names) > 1:
        if len(spec) != len(names):
            raise ValueError(f"compile: {what} has {len(spec)} entries but the model has "
                             f"{len(names)} outputs {names}")
        return list(spec)
    return [spec] * len(names)


class CompiledLoss:
    """The compiled loss: ``loss(y_true, y_pred, sample_weight, masks)`` over lists of
    per-output arrays / Tensors -> (total Tensor, {name: unweighted value})."""

    def __init__(self, loss, loss_weights=None):
        self._loss, self._loss_weights = loss, loss_weights
        self.built = False

    def build(self, names, y_true, y_pred):
        specs = per_output(self._loss, names, "loss")
        if all(s is None for s in specs):
            raise ValueError("compile: no loss was given for any output")
        self.fns = []
        for spec, yt, yp in zip(specs, y_true, y_pred):
            if isinstance(spec, str) and spec.lower() in ("crossentropy", "ce"):
                binary, sparse = metrics_module.is_binary_or_sparse(yt.shape, yp.shape)
                spec = ("binary_crossentropy" if binary else "sparse_categorical_crossentropy"
                        if sparse else "categorical_crossentropy")
            self.fns.append(None if spec is None else losses_module.get(spec))
        weights = per_output(self._loss_weights, names, "loss_weights")
        self.weights = [1.0 if w is None else float(w) for w in weights]
        self.names = [f"{n}_loss" for n in names] if len(names) > 1 else []
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight, masks):
        total, parts = None, {}
        for i, (fn, yt, yp) in enumerate(zip(self.fns, y_true, y_pred)):
            if fn is None:
                continue
            if yt is None:
                raise ValueError(f"loss: output {i} has a loss but no target was given")
            value = fn(yt, yp, sample_weight[i], masks[i])
            if self.names:
                parts[self.names[i]] = float(value.data)
            if self.weights[i] != 1.0:
                value = value * self.weights[i]
            total = value if total is None else total + value
        return total, parts


class CompiledMetrics:
    """Metric objects per output; ``update_state`` per batch, ``results()`` by name."""

    def __init__(self, metrics, weighted_metrics=None):
        self._metrics, self._weighted = metrics, weighted_metrics
        self.built = False
        self.metrics = []

    def build(self, names, y_true, y_pred):
        self._per_output = []
        for spec, weighted in ((self._metrics, False), (self._weighted, True)):
            entries = per_output(spec, names, "metrics") if spec is not None else [None] * len(names)
            for i, (entry, yt, yp) in enumerate(zip(entries, y_true, y_pred)):
                if entry is None:
                    continue
                entry = entry if isinstance(entry, (list, tuple)) else [entry]
                for ident in entry:
                    m = metrics_module.get(ident, yt.shape, yp.shape)
                    if len(names) > 1:
                        m.name = f"{names[i]}_{m.name}"
                    self._per_output.append((i, m, weighted))
                    self.metrics.append(m)
        seen = set()
        for m in self.metrics:
            if m.name in seen:
                raise ValueError(f"compile: two metrics are both named {m.name!r}")
            seen.add(m.name)
        self.built = True

    def update_state(self, y_true, y_pred, sample_weight, masks):
        for i, m, weighted in self._per_output:
            if y_true[i] is None:
                continue
            m.update_state(y_true[i], y_pred[i], sample_weight[i] if weighted else None,
                           masks[i])

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()

    def results(self):
        return {m.name: m.result() for m in self.metrics}
