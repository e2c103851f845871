"""rnnkit timed: ``nn.RNN/LSTM/GRU`` inference and training steps.

``python -m bench.rnnkit_side`` reads one JSON request on stdin, ``{"configs": [Config
dicts], "modes": [...], "policy": Policy dict, "backend": "numpy" | "numba" | null}``, and
prints ``{"results": [...]}`` on stdout, as ``torch_worker.py`` does for the references.
The command line starts one such process per configuration: a fresh process is what a
user's script gets. A process that had freed big blocks before (the 2048³ GEMM peak, an
earlier configuration) has glibc's thresholds raised, and a configuration timed there
skipped the page faults a fresh process pays on memory handed back to the kernel (rnnkit
training steps measured 1.5-2x faster that way before its cache was lent, see
``rnnkit/recurrent/_workspace.py``). ``measure`` can also be called directly (the smoke
test does).
"""
from __future__ import annotations

import gc
import sys
import tracemalloc

import numpy as np
import rnnkit
from rnnkit import nn

from bench import child, timing
from bench import configs as C

_MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
LR = 0.01  # the loss is a mean, so its gradients, and the drift of the weights, stay small


def build(cfg):
    """(module, x): the configuration's module with the seeded weights, and its input."""
    weights, x = C.make_data(cfg)
    module = _MODULES[cfg.cell](cfg.input, cfg.hidden, num_layers=cfg.layers,
                                bidirectional=cfg.bidirectional)
    module.load_state_dict(weights)
    return module, rnnkit.tensor(x)


def sgd(params):
    """(step function, description): rnnkit.optim.SGD when it exists, else its update
    p <- p - lr * grad written inline (the optimizer is being written concurrently)."""
    try:
        from rnnkit.optim import SGD
    except ImportError:
        def step():
            for p in params:
                if p.grad is not None:
                    p.data -= LR * p.grad.data
        return step, "inline SGD update (rnnkit.optim.SGD not available)"
    return SGD(params, lr=LR).step, "rnnkit.optim.SGD"


def backend_name():
    """The kernel backend in use ("numba" or "numpy"), or "numpy" if rnnkit has no switch."""
    from rnnkit import recurrent

    get = getattr(recurrent, "get_backend", None)
    return get() if get is not None else "numpy"


def measure(cfg, mode, policy):
    """Time one configuration in one mode ("infer" or "train"); returns a result dict.

    infer: the forward pass under ``rnnkit.no_grad()``.
    train: zero_grad, forward, loss = output.mean(), backward (BPTT), SGD step.
    The result holds the timing summary (``timing.summarize``), ``flops``,
    ``tokens_per_s`` from the median, and for infer the output's ``checksum``, for train
    ``cache_bytes`` and ``step_peak_bytes`` (see :func:`bptt_cache`).
    """
    module, x = build(cfg)
    extra = {}
    if mode == "infer":
        with rnnkit.no_grad():
            extra["checksum"] = C.checksum(module(x)[0].data)

        def call():
            with rnnkit.no_grad():
                module(x)
    elif mode == "train":
        step, extra["optimizer"] = sgd(list(module.parameters()))

        def call():
            module.zero_grad()
            out, _ = module(x)
            out.mean().backward()
            step()
    else:
        raise ValueError(f"measure: mode must be 'infer' or 'train', got {mode!r}")
    result = timing.measure(call, policy)
    if mode == "train":
        # After timing, so one-off allocations of the first calls are not counted.
        extra["cache_bytes"], extra["step_peak_bytes"] = bptt_cache(module, x)
    result.update(extra)
    result.update(framework="rnnkit", backend=backend_name(), config=cfg.name, mode=mode,
                  flops=C.flops(cfg, mode),
                  tokens_per_s=cfg.tokens / (result["median_ms"] / 1e3))
    return result


def _array_bytes():
    """Bytes of live NumPy array buffers that tracemalloc has seen allocated."""
    domain = tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)
    return sum(t.size for t in tracemalloc.take_snapshot().filter_traces([domain]).traces)


def bptt_cache(module, x):
    """(held, peak) bytes traced by tracemalloc over one training step.

    held: the array memory allocated by the forward pass and still alive before
    backward, i.e. the BPTT cache with the output it includes. Counted in NumPy's own
    tracemalloc domain, so it is array buffers only, as torch's side counts tensor
    storages only (the Python objects of either graph are left out); the parameters and
    the input existed before and are not counted.
    peak: the highest point above the start during forward and backward together, all
    allocations (arrays and Python objects).
    """
    # The NumPy loops reuse scratch buffers between calls (rnnkit.recurrent.empty_cache):
    # emptied first, so the forward's cache is allocated (and counted) here, and again
    # after the forward, so the scratch it gave back is not counted as held.
    rnnkit.recurrent.empty_cache()
    gc.collect()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        before = _array_bytes()
        out, _ = module(x)
        rnnkit.recurrent.empty_cache()
        held = _array_bytes() - before      # the module's own cache, as on torch's side
        loss = out.mean()
        loss.backward()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if started:
            tracemalloc.stop()
    module.zero_grad()
    return held, peak


def run(request):
    """Measure the request's configurations in this process; the answer's results are
    ``measure``'s dicts."""
    if request.get("backend"):
        from rnnkit import recurrent

        recurrent.set_backend(request["backend"])
    policy = timing.Policy.from_dict(request["policy"])
    results = []
    for d in request["configs"]:
        cfg = C.Config.from_dict(d)
        for mode in request["modes"]:
            r = measure(cfg, mode, policy)
            print(timing.progress_line(r), file=sys.stderr, flush=True)
            results.append(r)
    return {"results": results}


if __name__ == "__main__":
    child.serve(run)
