"""The benchmark harness (bench/): rnnkit's side on a tiny config, and the FLOP count.

Runs on the NumPy backend (no torch child, no numba compilation), in about a second,
one rnnkit child process included; the full harness is ``python -m bench``.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bench/ package

from bench import configs as C  # noqa: E402
from bench import report, rnnkit_side, timing  # noqa: E402
from rnnkit.recurrent import backend  # noqa: E402

TINY = C.Config("tiny-lstm", "lstm", batch=2, seq=5, input=3, hidden=4, layers=2,
                bidirectional=True)
POLICY = timing.Policy(warmup=1, repeats=3)


@pytest.fixture(autouse=True)
def numpy_backend():
    with backend.use_backend("numpy"):
        yield


@pytest.mark.parametrize("mode", ["infer", "train"])
def test_rnnkit_timing_result_has_positive_ordered_times(mode):
    r = rnnkit_side.measure(TINY, mode, POLICY)
    assert (r["framework"], r["config"], r["mode"]) == ("rnnkit", "tiny-lstm", mode)
    assert r["repeats"] == len(r["times_ms"]) == 3
    assert all(t > 0 for t in r["times_ms"])
    assert 0 < r["min_ms"] <= r["median_ms"] <= r["max_ms"]
    assert r["tokens_per_s"] == pytest.approx(2 * 5 / (r["median_ms"] / 1e3))
    assert r["flops"] == C.flops(TINY, mode)


def test_training_result_counts_a_nonempty_bptt_cache():
    r = rnnkit_side.measure(TINY, "train", POLICY)
    # At least the two layers' outputs, (seq, batch, 2 directions * hidden) float32 each.
    assert r["cache_bytes"] >= 2 * 5 * 2 * 8 * 4
    assert r["step_peak_bytes"] >= r["cache_bytes"]


def test_inference_checksum_is_the_sum_of_the_output():
    module, x = rnnkit_side.build(TINY)
    out = module(x)[0].data
    r = rnnkit_side.measure(TINY, "infer", POLICY)
    assert r["checksum"] == pytest.approx((out.sum(), abs(out).sum()), rel=1e-6)


def test_flops_of_small_lstm_by_hand():
    # One LSTM layer, B=32, T=100, D=64, H=128: 2 * 32 * 4 * 128 * (64 + 128) per step,
    # 6,291,456, times 100 steps.
    small = C.select("small-lstm")[0]
    assert C.flops(small, "infer") == 629_145_600
    assert C.flops(small, "train") == 3 * 629_145_600


def test_flops_of_stacked_and_bidirectional_layers_by_hand():
    # medium-lstm: layer 0 sees D=128, layer 1 sees H=512:
    # 2*32*4*512*(128+512) + 2*32*4*512*(512+512) = 83,886,080 + 134,217,728 per step.
    assert C.flops(C.select("medium-lstm")[0], "infer") == 100 * 218_103_808
    # bilstm: small-lstm's layer in both directions.
    assert C.flops(C.select("bilstm")[0], "infer") == 2 * 629_145_600


def test_unknown_config_name_raises_listing_the_valid_ones():
    with pytest.raises(ValueError, match="small-lstm"):
        C.select("huge-lstm")


def test_linear_fit_recovers_an_exact_line():
    a, b, r2, deviation = report.linear_fit([50, 500, 5000], [2 + 3 * 50, 2 + 3 * 500,
                                                               2 + 3 * 5000])
    assert (a, b, r2) == pytest.approx((2, 3, 1))
    assert deviation == pytest.approx(0, abs=1e-9)


def test_interleaved_plan_times_one_configuration_at_a_time_in_order():
    """--interleave: each configuration is a run of its own (rnnkit, then the references
    in a child), reference configs before the sweep's, each with its own policy."""
    import bench.run as run

    ref, sweep = C.select("small-lstm,imdb-lstm"), C.sweep_configs()["seq"][:2]
    p_ref, p_sweep = timing.Policy(warmup=1, repeats=3), timing.Policy(warmup=1, repeats=5)
    together = run.plan(ref, p_ref, True, sweep, p_sweep, interleave=False)
    assert together == [(ref, p_ref, True), (sweep, p_sweep, False)]
    one_by_one = run.plan(ref, p_ref, True, sweep, p_sweep, interleave=True)
    assert one_by_one == [([ref[0]], p_ref, True), ([ref[1]], p_ref, True),
                          ([sweep[0]], p_sweep, False), ([sweep[1]], p_sweep, False)]
    assert run.plan(ref, p_ref, False, [], p_sweep, interleave=True)[-1][0] == [ref[1]]


def test_rnnkit_side_answers_in_a_child_process_on_the_requested_backend():
    """The command line times rnnkit in a fresh process per configuration: the child
    gets the request as JSON and answers with measure()'s results, on the backend asked
    for, with the same outputs as in this process."""
    from bench import child

    answer = child.call("bench.rnnkit_side",
                        {"configs": [TINY.to_dict()], "modes": ["infer"],
                         "policy": POLICY.to_dict(), "backend": "numpy"})
    (r,) = answer["results"]
    assert (r["framework"], r["config"], r["mode"], r["backend"]) == (
        "rnnkit", "tiny-lstm", "infer", "numpy")
    assert r["repeats"] == 3
    here = rnnkit_side.measure(TINY, "infer", POLICY)
    assert r["checksum"] == pytest.approx(here["checksum"], rel=1e-6)
