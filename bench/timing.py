"""How long to measure: warm-up, then a number of repeats chosen from a time budget.

Shared by both processes, so rnnkit and PyTorch are measured by the same rule.

The machine may be shared (other sessions run tests on the same two cores), so each
series of calls also records how much of the machine other processes used meanwhile
(``others``), and a disturbed series is measured once more.
"""
from __future__ import annotations

import dataclasses
import gc
import math
import os
import statistics
import time


@dataclasses.dataclass(frozen=True)
class Policy:
    """warmup calls, then ``repeats`` timed calls, or if None as many as fit in
    ``budget_s`` seconds (estimated from the last warm-up call), clamped to
    [min_repeats, max_repeats]. A series during which other processes used more than
    ``disturbed`` of the machine is repeated up to ``retries`` times; the least disturbed
    series is kept. With ``quiet_wait_s``, each series first waits up to that long for
    the others' share to fall to ``disturbed``."""

    budget_s: float = 2.0
    min_repeats: int = 5
    max_repeats: int = 1000
    warmup: int = 2
    repeats: int | None = None
    disturbed: float = 0.10
    retries: int = 1
    quiet_wait_s: float = 0.0

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(**d)


DEFAULT = Policy()
QUICK = Policy(budget_s=0.2, min_repeats=3, max_repeats=20, warmup=1, retries=0)
SWEEP = Policy(budget_s=1.0, min_repeats=3, max_repeats=300, warmup=1)


def _once(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure(fn, policy):
    """Time ``fn()``; returns the summary of :func:`summarize` (milliseconds).

    The first calls pay for one-off work (compiled loops loaded from numba's cache,
    allocator growth, oneDNN primitive creation), so they are warm-up and not counted.
    """
    last = 0.0
    for _ in range(max(1, policy.warmup)):
        last = _once(fn)
    if policy.repeats is not None:
        n = policy.repeats
    else:
        n = math.ceil(policy.budget_s / max(last, 1e-9))
        n = min(max(n, policy.min_repeats), policy.max_repeats)
    # Collect garbage left by warm-up once, outside the timed calls. The collector stays
    # on while timing: a training loop pays for it too, and an autograd graph kept alive
    # by a reference cycle must still be freed between calls.
    best, waited = None, 0.0
    for _ in range(1 + max(0, policy.retries)):
        gc.collect()
        waited += wait_quiet(policy.quiet_wait_s, policy.disturbed)
        watch = OtherLoad()
        series = summarize([_once(fn) for _ in range(n)], watch.share())
        series["waited_s"] = waited
        if best is None or _less_disturbed(series, best):
            best = series
        if best["others"] is None or best["others"] <= policy.disturbed:
            break
    return best


def wait_quiet(limit_s, threshold, probe_s=0.5):
    """Sleep until other processes use at most ``threshold`` of the machine over a
    ``probe_s`` window, or ``limit_s`` has passed; returns the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit_s:
        watch = OtherLoad()
        time.sleep(probe_s)
        share = watch.share()
        if share is None or share <= threshold:
            break
    return time.perf_counter() - start


def _less_disturbed(a, b):
    return a["others"] is not None and (b["others"] is None or a["others"] < b["others"])


def summarize(seconds, others=None):
    """{"median_ms", "min_ms", "max_ms", "repeats", "times_ms", "others"} of per-call
    seconds; ``others`` is the share of the machine other processes used (or None)."""
    ms = [s * 1e3 for s in seconds]
    return {"median_ms": statistics.median(ms), "min_ms": min(ms), "max_ms": max(ms),
            "repeats": len(ms), "times_ms": ms, "others": others}


class OtherLoad:
    """How busy the machine was with processes other than this one since creation.

    Linux's /proc/stat gives the busy time of all CPUs (steal included: a vCPU the
    hypervisor gave away is lost to us too); this process's own CPU time is subtracted.
    ``share()`` is the rest over wall time x CPUs, from 0 (quiet) to 1 (all cores taken),
    or None where /proc/stat does not exist or the window was too short to tell.
    """

    # /proc/stat counts in clock ticks (10 ms): shorter windows would give noise.
    MIN_WALL = 0.2

    def __init__(self):
        self.ncpu = os.cpu_count() or 1
        self.busy, self.own, self.wall = _machine_busy(), time.process_time(), time.perf_counter()

    def share(self):
        busy = _machine_busy()
        if busy is None or self.busy is None:
            return None
        wall = time.perf_counter() - self.wall
        own = time.process_time() - self.own
        if wall < self.MIN_WALL:
            return None
        return min(1.0, max(0.0, (busy - self.busy - own) / (wall * self.ncpu)))


def _machine_busy():
    """Seconds of CPU time all CPUs spent busy since boot, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def progress_line(r):
    """One line of progress for a result dict, as both processes print it."""
    line = (f"  {r['framework']:<11} {r['config']:<13} {r['mode']:<5} "
            f"{r['median_ms']:9.2f} ms  ({r['repeats']} repeats)")
    if r.get("others"):
        line += f", others used {r['others']:.0%} of the machine"
    return line
