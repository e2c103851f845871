"""The references, timed in a child process: PyTorch (and ONNX Runtime for inference).

``python -m bench.torch_worker`` reads one JSON request on stdin,
``{"configs": [Config dicts], "modes": ["infer", "train"], "policy": Policy dict,
"onnx": bool}``, and prints one JSON answer on stdout, ``{"env": {...}, "results":
[...], "notes": [...]}``, each result shaped like ``rnnkit_side.measure``'s. Progress goes
to stderr. It imports no rnnkit: its thread pools (PyTorch's, ONNX Runtime's) are the only
ones in this process, and the parent is idle while it runs.
"""
from __future__ import annotations

import io
import re
import sys
import time
import traceback
import warnings

from bench import child, timing
from bench import configs as C

THREADS = 2
LR = 0.01  # as rnnkit_side.LR


def build(cfg):
    import torch

    weights, x = C.make_data(cfg)
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cfg.cell]
    module = cls(cfg.input, cfg.hidden, num_layers=cfg.layers, bidirectional=cfg.bidirectional)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    return module, torch.from_numpy(x)


def measure_torch(cfg, mode, policy):
    """As ``rnnkit_side.measure``: infer under torch.inference_mode(); train = zero_grad,
    forward, output.mean(), backward, torch.optim.SGD step."""
    import torch

    module, x = build(cfg)
    extra = {}
    if mode == "infer":
        module.eval()
        with torch.inference_mode():
            extra["checksum"] = C.checksum(module(x)[0].numpy())

        def call():
            with torch.inference_mode():
                module(x)
    else:
        opt = torch.optim.SGD(module.parameters(), lr=LR)
        extra["optimizer"] = "torch.optim.SGD"

        def call():
            opt.zero_grad(set_to_none=True)
            out, _ = module(x)
            out.mean().backward()
            opt.step()
    result = timing.measure(call, policy)
    if mode == "train":
        extra["cache_bytes"] = saved_bytes(module, x)
    result.update(extra)
    result.update(framework="torch", config=cfg.name, mode=mode, flops=C.flops(cfg, mode),
                  tokens_per_s=cfg.tokens / (result["median_ms"] / 1e3))
    return result


def saved_bytes(module, x):
    """Bytes of the distinct storages autograd saves for backward during one forward.

    Counted through saved_tensors_hooks, each storage once however many views of it are
    saved; the parameters and the input are left out, as they exist without training
    (the same rule as tracemalloc's count of new allocations on rnnkit's side).
    """
    import torch

    seen = {}

    def pack(t):
        try:
            storage = t.untyped_storage()
            seen[storage.data_ptr()] = storage.nbytes()
        except (RuntimeError, NotImplementedError):  # a tensor without a plain storage
            seen[("tensor", id(t))] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out, _ = module(x)
        loss = out.mean()
    existing = {p.untyped_storage().data_ptr() for p in module.parameters()}
    existing.add(x.untyped_storage().data_ptr())
    total = sum(n for key, n in seen.items() if key not in existing)
    loss.backward()
    module.zero_grad(set_to_none=True)
    return total


def measure_onnx(cfg, policy):
    """ONNX Runtime inference of the exported torch module, 2 intra-op threads."""
    import onnxruntime as ort
    import torch

    module, x = build(cfg)
    module.eval()
    buf = io.BytesIO()
    # The TorchScript exporter (dynamo=False): the dynamo exporter needs onnxscript, not
    # in our extras, and this one emits ONNX's own LSTM/GRU/RNN ops, which ORT runs fused.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (x,), buf, dynamo=False, input_names=["x"])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = THREADS
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy()}
    out = session.run(None, feed)[0]
    result = timing.measure(lambda: session.run(None, feed), policy)
    result.update(framework="onnxruntime", config=cfg.name, mode="infer",
                  checksum=C.checksum(out), flops=C.flops(cfg, "infer"),
                  tokens_per_s=cfg.tokens / (result["median_ms"] / 1e3))
    return result


def torch_gemm_peak(n=2048, repeats=5):
    """Best GFLOP/s of an n^3 float32 torch.mm, for comparison with NumPy's peak."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def environment(use_onnx, policy):
    import torch

    blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    env = {"torch": torch.__version__,
           "torch threads": f"{torch.get_num_threads()} intra-op, "
                            f"{torch.get_num_interop_threads()} inter-op",
           "torch backends": f"oneDNN (mkldnn) {torch.backends.mkldnn.is_available()}, "
                             f"MKL {torch.backends.mkl.is_available()}"
                             + (f", BLAS {blas.group(1)}" if blas else ""),
           "torch GEMM peak (GFLOP/s)": round(_quiet_then(policy, torch_gemm_peak), 1)}
    if use_onnx:
        import onnx
        import onnxruntime

        env["onnxruntime"] = f"{onnxruntime.__version__} (onnx {onnx.__version__}), " \
                             f"{THREADS} intra-op threads"
    return env


def _quiet_then(policy, fn):
    timing.wait_quiet(policy.quiet_wait_s, policy.disturbed)
    return fn()


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(request):
    import torch

    torch.set_num_threads(THREADS)
    policy = timing.Policy.from_dict(request["policy"])
    notes, results = [], []
    use_onnx = request.get("onnx", True)
    if use_onnx:
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
        except ImportError as e:
            use_onnx = False
            notes.append(f"ONNX Runtime column skipped: {e.name} is not installed "
                         f"(pip install -e '.[bench]').")
    env = environment(use_onnx, policy)
    for d in request["configs"]:
        cfg = C.Config.from_dict(d)
        jobs = [("torch", m) for m in request["modes"]]
        if use_onnx and "infer" in request["modes"]:
            jobs.append(("onnxruntime", "infer"))
        for framework, mode in jobs:
            try:
                if framework == "torch":
                    r = measure_torch(cfg, mode, policy)
                else:
                    r = measure_onnx(cfg, policy)
            except Exception as e:  # one failing reference must not lose the others
                traceback.print_exc()
                r = {"framework": framework, "config": cfg.name, "mode": mode,
                     "error": f"{type(e).__name__}: {e}"}
            else:
                _log(timing.progress_line(r))
            results.append(r)
    return {"env": env, "results": results, "notes": notes}


if __name__ == "__main__":
    child.serve(run)
