"""Turning results into tables: per-config rows, the sweep's linear fit, ``results.md``.

A result is a dict from ``rnnkit_side.measure`` or the worker: framework, config, mode,
median/min/max milliseconds, flops, tokens_per_s, and for training the cache bytes.
"""
from __future__ import annotations

import numpy as np

MIB = 2 ** 20


class Results:
    """All results of a run, looked up by (framework, config name, mode)."""

    def __init__(self, results, peak_gflops, disturbed=0.10):
        self.by_key = {(r["framework"], r["config"], r["mode"]): r for r in results}
        self.peak = peak_gflops
        self.disturbed = disturbed

    def n_disturbed(self):
        return sum(1 for r in self.by_key.values() if self.is_disturbed(r))

    def is_disturbed(self, r):
        return (r.get("others") or 0) > self.disturbed

    def get(self, framework, cfg, mode):
        r = self.by_key.get((framework, cfg.name, mode))
        return None if r is None or "error" in r else r

    def error(self, framework, cfg, mode):
        r = self.by_key.get((framework, cfg.name, mode))
        return r.get("error") if r else None

    # -- cells ------------------------------------------------------------------------
    def ms(self, framework, cfg, mode):
        r = self.get(framework, cfg, mode)
        if r is None:
            return "error" if self.error(framework, cfg, mode) else "–"
        mark = " †" if self.is_disturbed(r) else ""
        return f"{_num(r['median_ms'])} ({_num(r['min_ms'])}–{_num(r['max_ms'])}){mark}"

    def tokens(self, framework, cfg, mode):
        r = self.get(framework, cfg, mode)
        return _si(r["tokens_per_s"]) if r else "–"

    def share(self, r):
        """A result's GEMM GFLOP/s (at the median) over the measured float32 GEMM peak."""
        return r["flops"] / (r["median_ms"] / 1e3) / 1e9 / self.peak

    def over_peak(self):
        """Results faster than the peak allows (see the note in ``run.py``)."""
        return [r for r in self.by_key.values() if "error" not in r and self.share(r) > 1]

    def peak_share(self, framework, cfg, mode):
        r = self.get(framework, cfg, mode)
        return f"{100 * self.share(r):.1f}%" if r else "–"

    def ratio(self, cfg, mode, reference, with_min=True):
        """rnnkit's median time over the reference's (above 1, rnnkit is slower), and the
        ratio of the minima, which other processes on the machine disturb least."""
        a, b = self.get("rnnkit", cfg, mode), self.get(reference, cfg, mode)
        if not (a and b):
            return "–"
        text = f"{a['median_ms'] / b['median_ms']:.2f}x"
        return text + f" (min {a['min_ms'] / b['min_ms']:.2f}x)" if with_min else text

    def cache(self, framework, cfg, key="cache_bytes"):
        r = self.get(framework, cfg, "train")
        return f"{r[key] / MIB:.1f}" if r and key in r else "–"

    def cache_ratio(self, cfg):
        a, b = self.get("rnnkit", cfg, "train"), self.get("torch", cfg, "train")
        return f"{a['cache_bytes'] / b['cache_bytes']:.2f}x" if a and b else "–"

    def agree(self, cfg):
        """Whether rnnkit's inference output matches the references' (same weights and
        input): sums equal to 1e-4 of the sum of magnitudes."""
        mine = self.get("rnnkit", cfg, "infer")
        if mine is None:
            return "–"
        verdicts = []
        for ref in ("torch", "onnxruntime"):
            r = self.get(ref, cfg, "infer")
            if r is None:
                continue
            (s, mag), (s_ref, _) = mine["checksum"], r["checksum"]
            ok = abs(s - s_ref) <= 1e-4 * max(mag, 1e-30)
            verdicts.append("yes" if ok else f"NO vs {ref} ({s:.6g} vs {s_ref:.6g})")
        if not verdicts:
            return "–"
        return "yes" if all(v == "yes" for v in verdicts) else "; ".join(verdicts)


def _num(ms):
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def _si(x):
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}"


def table(header, rows):
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def inference_table(res, cfgs, with_onnx):
    header = ["config", "shape", "rnnkit ms med (min–max)", "rnnkit tok/s", "rnnkit % peak",
              "torch ms med (min–max)", "torch tok/s", "torch % peak", "rnnkit / torch"]
    if with_onnx:
        header += ["ORT ms med (min–max)", "rnnkit / ORT"]
    header.append("outputs agree")
    rows = []
    for c in cfgs:
        row = [c.name, c.shape(), res.ms("rnnkit", c, "infer"), res.tokens("rnnkit", c, "infer"),
               res.peak_share("rnnkit", c, "infer"), res.ms("torch", c, "infer"),
               res.tokens("torch", c, "infer"), res.peak_share("torch", c, "infer"),
               res.ratio(c, "infer", "torch")]
        if with_onnx:
            row += [res.ms("onnxruntime", c, "infer"), res.ratio(c, "infer", "onnxruntime")]
        rows.append(row + [res.agree(c)])
    return table(header, rows)


def training_table(res, cfgs):
    header = ["config", "shape", "rnnkit ms med (min–max)", "rnnkit tok/s", "rnnkit % peak",
              "torch ms med (min–max)", "torch tok/s", "torch % peak", "rnnkit / torch",
              "rnnkit cache MiB", "torch cache MiB", "cache rnnkit / torch",
              "rnnkit step peak MiB"]
    rows = [[c.name, c.shape(), res.ms("rnnkit", c, "train"), res.tokens("rnnkit", c, "train"),
             res.peak_share("rnnkit", c, "train"), res.ms("torch", c, "train"),
             res.tokens("torch", c, "train"), res.peak_share("torch", c, "train"),
             res.ratio(c, "train", "torch"), res.cache("rnnkit", c), res.cache("torch", c),
             res.cache_ratio(c), res.cache("rnnkit", c, "step_peak_bytes")] for c in cfgs]
    return table(header, rows)


# -- the sweep ------------------------------------------------------------------------

def linear_fit(x, y):
    """y = a + b x fitted to relative errors: (a, b, R^2, max |y - fit| / y).

    The points span two decades, so a plain least-squares line would follow the largest
    and leave the small ones hundreds of percent off; weights 1/y make every point's
    relative distance count the same. R^2 is that weighted fit's own: 1 - the weighted
    residual over the weighted spread about the weighted mean.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    w = 1 / y
    b, a = np.polyfit(x, y, 1, w=w)  # polyfit's weights multiply the residuals
    fit = a + b * x
    mean = float((w ** 2 * y).sum() / (w ** 2).sum())
    ss_res = float((w ** 2 * (y - fit) ** 2).sum())
    ss_tot = float((w ** 2 * (y - mean) ** 2).sum())
    r2 = 1 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return a, b, r2, float(np.max(np.abs(y - fit) / y))


def sweep_section(res, axis, cfgs, frameworks, modes):
    """The table of one sweep axis ("seq" or "batch") and its linear fits."""
    var = (lambda c: c.seq) if axis == "seq" else (lambda c: c.batch)
    label = "T (B=32)" if axis == "seq" else "B (T=100)"
    header, cols = [label, "tokens"], []
    for mode in modes:
        for fw in frameworks:
            header += [f"{fw} {mode} ms", f"{fw} {mode} µs/token"]
            cols.append((fw, mode))
        if "torch" in frameworks:
            header.append(f"{mode} rnnkit / torch")
            cols.append((None, mode))
    rows = []
    for c in cfgs:
        row = [var(c), c.tokens]
        for fw, mode in cols:
            if fw is None:
                row.append(res.ratio(c, mode, "torch", with_min=False))
                continue
            r = res.get(fw, c, mode)
            mark = " †" if r and res.is_disturbed(r) else ""
            row += [_num(r["median_ms"]) + mark, f"{1e3 * r['median_ms'] / c.tokens:.2f}"] \
                if r else ["–", "–"]
        rows.append(row)
    fits = []
    unit = "step of T" if axis == "seq" else "sequence of the batch"
    for fw, mode in cols:
        found = [(c, res.get(fw, c, mode)) for c in cfgs] if fw else []
        found = [(c, r["median_ms"]) for c, r in found if r]
        if len(found) < 3:
            continue
        a, b, r2, dev = linear_fit([var(c) for c, _ in found], [ms for _, ms in found])
        per_token = [1e3 * ms / c.tokens for c, ms in found]
        fits.append(f"- {fw} {mode}: time = {a:.2f} ms + {b:.4g} ms per {unit}; "
                    f"R² = {r2:.4f}, largest deviation from the line {100 * dev:.0f}%; "
                    f"µs/token from {min(per_token):.2f} to {max(per_token):.2f}")
    return table(header, rows) + "\n\n" + "\n".join(fits)


# -- the file -------------------------------------------------------------------------

METHOD = """\
- Both frameworks run the same float32 weights and input (rebuilt from one seed in each
  process; "outputs agree" compares the inference outputs), time-major (T, B, D), zero
  initial states. Inference: `rnnkit.no_grad()` / `torch.inference_mode()` (ORT: the
  TorchScript export of the same torch module). Training step: zero_grad, forward,
  loss = output.mean(), backward (BPTT), SGD step (lr 0.01).
- rnnkit runs with NumPy's default BLAS threads in a fresh child process per
  configuration, as a user's script would (a process that has already freed big blocks
  skips page faults a fresh one pays); PyTorch (`torch.set_num_threads(2)`) and ONNX
  Runtime (`intra_op_num_threads=2`) run afterwards in a child process of their own, so
  no two thread pools ever compete (with `--interleave`, a child per configuration,
  right after rnnkit's cells of that configuration).
- Each cell: {warmup} warm-up call(s), then {repeats}; times in milliseconds, median
  (min–max). tok/s = batch × seq / median. Ratios are median over median (in brackets:
  min over min): above 1x, rnnkit is slower. † marks a cell during which other processes
  used more than {disturbed:.0%} of the machine (measured from /proc/stat; such a series is
  measured once more and the quieter one kept): its times are less reliable.
- % peak: the recurrent GEMM FLOPs, 2·B·G·H·(D_l + H) per step, layer and direction
  (G = 1 RNN, 3 GRU, 4 LSTM; D_l the layer's input size), ×3 for training, per second,
  over the float32 GEMM peak measured in this run (best of five 2048³ NumPy matmuls,
  at the start and at the end of the run, the better kept).
- BPTT cache: rnnkit, the array memory allocated by the forward pass and still held
  before backward (tracemalloc, NumPy's domain: array buffers, not Python objects);
  torch, the distinct storages autograd saved during the forward (saved_tensors_hooks).
  Both leave out the parameters and the input, and both include the output (torch's
  kernel saves it too). rnnkit's NumPy loops reuse scratch buffers between calls; the
  measurement empties that cache first (so the forward's buffers are new and counted)
  and again after the forward (so scratch it gave back is not counted as held).
  rnnkit step peak: tracemalloc's peak over forward and backward together, every
  allocation counted."""


def markdown(*, title_note, machine, torch_env, peak, method, sections, notes, command):
    lines = ["# rnnkit benchmark", ""]
    if title_note:
        lines += [title_note, ""]
    lines += [f"Run on {machine['date']} with `{command}`.", "", "## Machine", ""]
    info = dict(machine)
    info.pop("date", None)
    info["float32 GEMM peak (NumPy, 2048³)"] = f"{peak:.1f} GFLOP/s"
    info.update(torch_env)
    lines += [table(["", ""], [[k, v] for k, v in info.items()]), "", "## Method", "",
              method, ""]
    for title, body in sections:
        lines += [f"## {title}", "", body, ""]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)
