"""The benchmark's command line: ``python -m bench`` or ``python bench/run.py``.

Measures the machine's GEMM peak, then every selected configuration with rnnkit, each in
a fresh child process (``rnnkit_side.py``), then the same with PyTorch and ONNX Runtime
in a child process (``torch_worker.py``), prints the tables and writes them to
``bench/results.md``.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import sys
import time
from pathlib import Path

if not __package__:  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import configs as C  # noqa: E402
from bench import child, machine, report, timing  # noqa: E402

MODES = ("infer", "train")


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: 1 warm-up, 3 to 20 repeats in ~0.2 s per cell")
    p.add_argument("--configs", metavar="NAME,NAME",
                   help="reference configs or groups to run (default all): "
                        + ", ".join(c.name for c in C.REFERENCE))
    p.add_argument("--mode", choices=("both",) + MODES, default="both",
                   help="inference, training step, or both (default)")
    p.add_argument("--repeats", type=int, metavar="N",
                   help="exactly N timed calls per cell (default: as many as fit the budget)")
    p.add_argument("--budget", type=float, metavar="SECONDS",
                   help=f"time budget per cell when choosing repeats "
                        f"(default {timing.DEFAULT.budget_s}, sweep {timing.SWEEP.budget_s})")
    p.add_argument("--sweep", action="store_true",
                   help="also sweep sequence length 50..5000 and batch 1..256 (LSTM, "
                        "hidden 128) and fit a line to each")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="before each timed series, wait up to SECONDS for other processes "
                        "to leave the machine (for shared machines; default 0: no waiting)")
    p.add_argument("--backend", choices=("auto", "numpy", "numba"),
                   help="rnnkit's kernel backend (default: rnnkit's own choice)")
    p.add_argument("--interleave", action="store_true",
                   help="time each configuration with rnnkit and then at once with the "
                        "references (a child process per configuration), instead of all "
                        "of rnnkit's first: the two sides of a ratio are then measured "
                        "seconds apart, not a minute (this machine's speed drifts)")
    p.add_argument("--no-torch", action="store_true", help="time rnnkit only")
    p.add_argument("--no-onnx", action="store_true", help="skip the ONNX Runtime reference")
    p.add_argument("--out", default=str(Path(__file__).with_name("results.md")),
                   help="where to write the Markdown report ('-' for nowhere; default "
                        "bench/results.md)")
    p.add_argument("--note", default="", help="a paragraph put at the top of the report")
    args = p.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        p.error(f"--repeats must be at least 1, got {args.repeats}")
    if args.wait_quiet < 0:
        p.error(f"--wait-quiet must be at least 0, got {args.wait_quiet}")
    if args.budget is not None and args.budget <= 0:
        p.error(f"--budget must be positive, got {args.budget}")
    try:
        args.selected = C.select(args.configs)
    except ValueError as e:
        p.error(str(e))
    return args


def policies(args):
    """(reference policy, sweep policy) after --quick, --budget and --repeats."""
    ref, sweep = (timing.QUICK, timing.QUICK) if args.quick else (timing.DEFAULT, timing.SWEEP)
    if args.budget is not None:
        ref, sweep = (dataclasses.replace(p, budget_s=args.budget) for p in (ref, sweep))
    if args.repeats is not None:
        ref, sweep = (dataclasses.replace(p, repeats=args.repeats) for p in (ref, sweep))
    if args.wait_quiet:
        ref, sweep = (dataclasses.replace(p, quiet_wait_s=args.wait_quiet)
                      for p in (ref, sweep))
    return ref, sweep


def plan(selected, ref_policy, onnx, sweep_cfgs, sweep_policy, interleave):
    """The runs, (configs, policy, onnx) each: the reference configs, then the sweep's;
    with ``interleave`` one configuration a run, so that both sides of a ratio are
    timed one right after the other."""
    runs = [(list(selected), ref_policy, onnx), (list(sweep_cfgs), sweep_policy, False)]
    if interleave:
        runs = [([c], p, o) for cfgs, p, o in runs for c in cfgs]
    return [r for r in runs if r[0]]


def run_rnnkit(cfgs, modes, policy, backend):
    """rnnkit's results for these configs, each configuration in a fresh process."""
    results = []
    for cfg in cfgs:
        request = {"configs": [cfg.to_dict()], "modes": list(modes),
                   "policy": policy.to_dict(), "backend": backend}
        results += child.call("bench.rnnkit_side", request)["results"]
    return results


def run_worker(cfgs, modes, policy, onnx):
    """The worker's answer for these configs; its progress is shown live (stderr)."""
    request = {"configs": [c.to_dict() for c in cfgs], "modes": list(modes),
               "policy": policy.to_dict(), "onnx": onnx}
    return child.call("bench.torch_worker", request)


def _shown_args(args):
    """The command-line arguments to print, with the text of --note left out."""
    shown, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == "--note":
            shown.append("--note …")
            skip = True
        elif a.startswith("--note="):
            shown.append("--note …")
        else:
            shown.append(a)
    return shown


def describe_policy(policy):
    if policy.repeats is not None:
        return f"{policy.repeats} timed calls"
    return (f"as many timed calls as fit {policy.budget_s:g} s "
            f"({policy.min_repeats} to {policy.max_repeats})")


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    if args.backend:
        from rnnkit import recurrent

        recurrent.set_backend(args.backend)
    modes = MODES if args.mode == "both" else (args.mode,)
    ref_policy, sweep_policy = policies(args)
    sweep = C.sweep_configs() if args.sweep else {}
    sweep_cfgs = [c for axis in sweep.values() for c in axis]
    notes = []
    load_before = machine.load_average()
    info = machine.describe()

    print("Measuring the float32 GEMM peak...", flush=True)
    timing.wait_quiet(ref_policy.quiet_wait_s, ref_policy.disturbed)
    peaks = [machine.gemm_peak()]
    print(f"  NumPy 2048³ matmul: {peaks[0]:.1f} GFLOP/s", flush=True)
    with_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    if not args.no_torch and not with_torch:
        notes.append("PyTorch columns skipped: torch is not installed "
                     "(pip install -e '.[bench]').")
    with_onnx = with_torch and not args.no_onnx
    runs = plan(args.selected, ref_policy, with_onnx, sweep_cfgs, sweep_policy,
                args.interleave)
    results, answers = [], []
    for cfgs, policy, onnx in runs:
        print("rnnkit (a child process per configuration):", flush=True)
        results += run_rnnkit(cfgs, modes, policy, args.backend)
        if with_torch and args.interleave:
            print("References (child process):", flush=True)
            answers.append(run_worker(cfgs, modes, policy, onnx))
    if with_torch and not args.interleave:
        print("PyTorch and ONNX Runtime (child process):" if with_onnx else
              "PyTorch (child process):", flush=True)
        answers = [run_worker(cfgs, modes, policy, onnx) for cfgs, policy, onnx in runs]
    info["BLAS in the rnnkit process"] = "<br>".join(machine.blas_info())
    optimizers = {r["optimizer"] for r in results if "optimizer" in r
                  and r["framework"] == "rnnkit"}
    if optimizers:
        notes.append(f"rnnkit's training step used: {', '.join(sorted(optimizers))}.")
    torch_env = answers[0]["env"] if answers else {}
    worker_notes = list(dict.fromkeys(n for a in answers for n in a["notes"]))
    notes += worker_notes
    with_onnx = with_onnx and not worker_notes
    for a in answers:
        results += a["results"]
    if args.interleave and with_torch:
        notes.append("Interleaved (--interleave): each configuration was timed by rnnkit "
                     "and then by the references before the next one.")
    if args.no_onnx:
        notes.append("ONNX Runtime column skipped (--no-onnx).")
    notes += [f"{r['framework']} {r['config']} {r['mode']} failed: {r['error']}"
              for r in results if "error" in r]
    if "torch" in sys.modules:
        notes.append("Warning: torch was imported in the rnnkit process; its threads may "
                     "have competed with rnnkit's.")
    # The peak again at the end, keeping the better: a busy moment lowers a measurement,
    # nothing raises it.
    timing.wait_quiet(ref_policy.quiet_wait_s, ref_policy.disturbed)
    peaks.append(machine.gemm_peak())
    peak = max(peaks)
    notes.append(f"GEMM peak measured {peaks[0]:.1f} GFLOP/s at the start and "
                 f"{peaks[1]:.1f} at the end; {peak:.1f} used.")
    load_after = machine.load_average()
    if load_before is not None:
        notes.append(f"1-minute load average: {load_before:.2f} before the run, "
                     f"{load_after:.2f} after (counting this run's own threads).")
    waited = sum(r.get("waited_s", 0) for r in results)
    notes.append(f"The whole run took {time.perf_counter() - started:.0f} s"
                 + (f", {waited:.0f} s of it waiting for other processes to leave the "
                    f"machine (--wait-quiet)." if waited >= 1 else "."))

    res = report.Results(results, peak, ref_policy.disturbed)
    over = res.over_peak()
    if over:
        notes.append(f"{len(over)} cells exceed 100% of the GEMM peak: that peak is what "
                     f"NumPy's BLAS reaches (its kernels are named in the BLAS row above), "
                     f"not the hardware's, and a framework with wider vector kernels "
                     f"(oneDNN's AVX-512 in torch) can outrun it.")
    if res.n_disturbed():
        notes.append(f"{res.n_disturbed()} of {len(results)} cells were disturbed by other "
                     f"processes (marked †).")
    sections = []
    if "infer" in modes:
        sections.append(("Inference", report.inference_table(res, args.selected, with_onnx)))
    if "train" in modes:
        sections.append(("Training step (forward, backward, SGD)",
                         report.training_table(res, args.selected)))
    frameworks = ["rnnkit"] + (["torch"] if with_torch else [])
    for axis, cfgs in sweep.items():
        title = ("Sweep: sequence length (LSTM D64 H128, B=32)" if axis == "seq"
                 else "Sweep: batch size (LSTM D64 H128, T=100)")
        sections.append((title, report.sweep_section(res, axis, cfgs, frameworks, modes)))
    method = report.METHOD.format(warmup=ref_policy.warmup,
                                  repeats=describe_policy(ref_policy),
                                  disturbed=ref_policy.disturbed)
    if sweep_cfgs:
        method += f"\n- Sweep cells: {describe_policy(sweep_policy)}; no ONNX Runtime."
    command = "python -m bench" + "".join(f" {a}" for a in _shown_args(argv or sys.argv[1:]))
    text = report.markdown(title_note=args.note, machine=info, torch_env=torch_env,
                           peak=peak, method=method, sections=sections, notes=notes,
                           command=command)
    for title, body in sections:
        print(f"\n## {title}\n\n{body}")
    print("\n" + "\n".join(f"- {n}" for n in notes))
    if args.out != "-":
        Path(args.out).write_text(text)
        print(f"\nWrote {args.out}")


if __name__ == "__main__":
    main()
