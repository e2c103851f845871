"""Benchmark harness: rnnkit's recurrent layers against PyTorch 2.13 and ONNX Runtime.

Run from the repository root: ``python -m bench`` (or ``python bench/run.py``);
``--help`` lists the options. Results go to ``bench/results.md``.

Files, in the order a run uses them:

- ``configs.py``: the benchmark configurations, the FLOP count, seeded weights and inputs
  that both processes rebuild identically;
- ``timing.py``: the repeat policy (warm-up, repeats chosen by a time budget) and stats;
- ``machine.py``: the machine's description and its measured float32 GEMM peak;
- ``rnnkit_side.py``: rnnkit timed in a child process, a fresh one per configuration
  (inference, training, BPTT cache);
- ``torch_worker.py``: PyTorch and ONNX Runtime timed in a child process;
- ``child.py``: the JSON request and answer that both sides' child processes speak;
- ``report.py``: the tables, the linearity fit of the sweep, ``results.md``;
- ``run.py``: the command line tying them together.
"""
