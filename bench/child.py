"""The benchmark's child processes: one JSON request on stdin, one JSON answer on stdout.

Each side is timed in a process of its own (``rnnkit_side.py`` one per configuration,
``torch_worker.py`` for the references), so no two frameworks' thread pools or
allocator histories meet.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from bench import machine


def call(module, request):
    """Run ``python -m module`` on the JSON ``request``; its JSON answer. Its progress
    (stderr) shows live."""
    proc = subprocess.run([sys.executable, "-m", module], input=json.dumps(request),
                          stdout=subprocess.PIPE, text=True, cwd=machine.REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"{module} failed (exit {proc.returncode}); its error is "
                           f"printed above")
    return json.loads(proc.stdout)


def serve(run):
    """The child's side: answer the request on stdin with ``run(request)``."""
    request = json.load(sys.stdin)
    # Anything a library prints (even from C) goes to stderr; stdout carries only the JSON.
    answer_fd = os.dup(1)
    os.dup2(2, 1)
    answer = run(request)
    with os.fdopen(answer_fd, "w") as out:
        json.dump(answer, out, default=float)   # NumPy scalars as plain numbers
