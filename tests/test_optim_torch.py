"""rnnkit.optim and rnnkit.clip against torch 2.13: identical parameters after the same
gradients, for every optimizer option; the same lr schedules; state dicts of the same
layout that resume identically; gradient clipping with the same norms and results."""
import itertools

import numpy as np
import pytest

import rnnkit
from rnnkit import clip, optim
from rnnkit.optim import lr_scheduler

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch", reason="the PyTorch oracle (torch==2.13.0) is not installed")

SHAPES = [(5, 4), (3,), (2, 3, 2)]
DTYPES = [np.float32, np.float64]
TOL = {np.float32: 1e-6, np.float64: 1e-12}   # max |ours - torch| / max(1, max |torch|)
STEPS = 10


# -- helpers -----------------------------------------------------------------------------
def make_params(dtype, shapes=SHAPES, seed=0):
    """The same initial parameters as rnnkit and torch leaves."""
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return ([rnnkit.tensor(v, requires_grad=True) for v in values],
            [torch.tensor(v, requires_grad=True) for v in values])


def gradient_sequence(dtype, shapes=SHAPES, steps=STEPS, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]


def set_grads(ours, theirs, grads):
    for o, t, g in zip(ours, theirs, grads):
        o.grad = None if g is None else rnnkit.tensor(g)
        t.grad = None if g is None else torch.tensor(g)


def assert_same_values(ours, theirs, dtype):
    for o, t in zip(ours, theirs):
        t = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
        o = o.data if isinstance(o, rnnkit.Tensor) else np.asarray(o)
        assert o.dtype == t.dtype
        err = np.max(np.abs(o - t), initial=0.0) / max(1.0, np.max(np.abs(t), initial=0.0))
        assert err <= TOL[dtype], f"relative error {err:.3g}"


def run(opt, params, grads_seq):
    """Apply each step's gradients to (ours or torch's) params and step."""
    for grads in grads_seq:
        for p, g in zip(params, grads):
            p.grad = None if g is None else (rnnkit.tensor(g) if isinstance(p, rnnkit.Tensor)
                                             else torch.tensor(g))
        opt.step()


def torch_state_as_numpy(sd):
    """torch's optimizer state dict with tensors as arrays and torch-only flags dropped."""
    state = {i: {k: (v.item() if k == "step" else v.numpy()) if isinstance(v, torch.Tensor)
                 else v for k, v in s.items()} for i, s in sd["state"].items()}
    groups = [{k: v for k, v in g.items()
               if k not in ("foreach", "differentiable", "fused", "capturable")}
              for g in sd["param_groups"]]
    return {"state": state, "param_groups": groups}


def grid(**axes):
    return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


def case_id(case):
    name, kwargs = case
    return name + "".join(f"-{k}={v}" for k, v in kwargs.items() if k != "lr")


CASES = (
    [("SGD", dict(lr=0.05, **kw)) for kw in grid(
        momentum=[0, 0.9], dampening=[0, 0.3], nesterov=[False, True],
        weight_decay=[0, 0.05], maximize=[False, True])
     if not (kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"] != 0))]
    + [(name, dict(lr=0.02, **kw)) for name in ("Adam", "AdamW") for kw in grid(
        betas=[(0.9, 0.999), (0.5, 0.9)], weight_decay=[0, 0.1], amsgrad=[False, True],
        maximize=[False, True])]
    + [("RMSprop", dict(lr=0.01, **kw)) for kw in grid(
        alpha=[0.99, 0.8], momentum=[0, 0.5], centered=[False, True], weight_decay=[0, 0.1],
        maximize=[False, True])]
    + [("Adagrad", dict(lr=0.1, **kw)) for kw in grid(
        lr_decay=[0, 0.05], weight_decay=[0, 0.1], initial_accumulator_value=[0, 0.5],
        maximize=[False, True])]
)
OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]
# Every optimizer with its stateful options on, for the tests that need one case each.
RICH = {"SGD": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        "Adam": dict(lr=0.02, amsgrad=True, weight_decay=0.1),
        "AdamW": dict(lr=0.02, amsgrad=True),
        "RMSprop": dict(lr=0.01, momentum=0.5, centered=True),
        "Adagrad": dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.5)}


# -- update rules --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_every_step_equals_torch(case, dtype):
    name, kwargs = case
    ours, theirs = make_params(dtype)
    o_opt = getattr(optim, name)(ours, **kwargs)
    t_opt = getattr(torch.optim, name)(theirs, **kwargs)
    for grads in gradient_sequence(dtype):
        set_grads(ours, theirs, grads)
        o_opt.step()
        t_opt.step()
        assert_same_values(ours, theirs, dtype)
    assert all(p.dtype == dtype for p in ours)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_after_ten_steps_equals_torchs_state_dict(case):
    name, kwargs = case
    ours, theirs = make_params(np.float64)
    o_opt = getattr(optim, name)(ours, **kwargs)
    t_opt = getattr(torch.optim, name)(theirs, **kwargs)
    grads = gradient_sequence(np.float64)
    run(o_opt, ours, grads)
    run(t_opt, theirs, grads)
    o_state = o_opt.state_dict()["state"]
    t_state = torch_state_as_numpy(t_opt.state_dict())["state"]
    assert o_state.keys() == t_state.keys()
    for i in t_state:
        assert o_state[i].keys() == t_state[i].keys()
        assert o_state[i].get("step") == t_state[i].get("step")
        assert_same_values([v for k, v in sorted(o_state[i].items()) if k != "step"],
                           [v for k, v in sorted(t_state[i].items()) if k != "step"],
                           np.float64)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_defaults_equal_torchs(name):
    ours, theirs = make_params(np.float32)
    o_opt, t_opt = getattr(optim, name)(ours), getattr(torch.optim, name)(theirs)
    t_group = t_opt.param_groups[0]
    for key, value in o_opt.param_groups[0].items():
        if key != "params":
            assert t_group[key] == value, key
    run(o_opt, ours, gradient_sequence(np.float32))
    run(t_opt, theirs, gradient_sequence(np.float32))
    assert_same_values(ours, theirs, np.float32)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_param_groups_keep_their_own_options(name):
    ours, theirs = make_params(np.float64)

    def groups(params):
        return [{"params": params[:1], "lr": 0.2, "weight_decay": 0.1},
                {"params": params[1:], "maximize": True}]
    o_opt = getattr(optim, name)(groups(ours), **RICH[name])
    t_opt = getattr(torch.optim, name)(groups(theirs), **RICH[name])
    grads = gradient_sequence(np.float64)
    run(o_opt, ours, grads)
    run(t_opt, theirs, grads)
    assert_same_values(ours, theirs, np.float64)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_group_added_later_is_updated_like_torch(name):
    ours, theirs = make_params(np.float64)
    o_opt = getattr(optim, name)(ours[:2], **RICH[name])
    t_opt = getattr(torch.optim, name)(theirs[:2], **RICH[name])
    grads = gradient_sequence(np.float64)
    run(o_opt, ours, grads[:4])
    run(t_opt, theirs, grads[:4])
    o_opt.add_param_group({"params": ours[2:], "lr": 0.03})
    t_opt.add_param_group({"params": theirs[2:], "lr": 0.03})
    run(o_opt, ours, grads[4:])
    run(t_opt, theirs, grads[4:])
    assert_same_values(ours, theirs, np.float64)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_parameters_without_grad_are_skipped_like_torch(name):
    ours, theirs = make_params(np.float64)
    o_opt = getattr(optim, name)(ours, **RICH[name])
    t_opt = getattr(torch.optim, name)(theirs, **RICH[name])
    # the second parameter gets a gradient only every third step, the third never
    grads = [[g[0], g[1] if i % 3 == 0 else None, None]
             for i, g in enumerate(gradient_sequence(np.float64))]
    run(o_opt, ours, grads)
    run(t_opt, theirs, grads)
    assert_same_values(ours, theirs, np.float64)
    np.testing.assert_array_equal(ours[2].data, make_params(np.float64)[0][2].data)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_float32_parameters_keep_float32_state(name):
    ours, _ = make_params(np.float32)
    opt = getattr(optim, name)(ours, **RICH[name])
    run(opt, ours, gradient_sequence(np.float32, steps=2))
    for s in opt.state.values():
        for key, value in s.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, key


def test_the_gradient_itself_is_never_modified():
    ours, _ = make_params(np.float32)
    opt = optim.SGD(ours, lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True)
    grads = gradient_sequence(np.float32, steps=1)[0]
    for p, g in zip(ours, grads):
        p.grad = rnnkit.tensor(g)
    for _ in range(3):
        opt.step()
    for p, g in zip(ours, grads):
        np.testing.assert_array_equal(p.grad.data, g)


# -- step(closure) and zero_grad -----------------------------------------------------------
def test_step_runs_the_closure_with_grad_enabled_and_returns_its_loss():
    w = rnnkit.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss
    with rnnkit.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.data, [0.8, -1.6], rtol=1e-6)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_sets_grads_to_none_or_zeros_in_place(set_to_none):
    ours, theirs = make_params(np.float32)
    set_grads(ours, theirs, gradient_sequence(np.float32, steps=1)[0])
    buffer = ours[0].grad.data
    optim.Adam(ours).zero_grad(set_to_none=set_to_none)
    torch.optim.Adam(theirs).zero_grad(set_to_none=set_to_none)
    for o, t in zip(ours, theirs):
        assert (o.grad is None) == (t.grad is None)
    if not set_to_none:
        assert ours[0].grad.data is buffer and not buffer.any()


# -- argument validation (torch rejects the same values) ---------------------------------------
INVALID = [
    ("SGD", dict(lr=-0.1), "lr"), ("SGD", dict(momentum=-0.5), "momentum"),
    ("SGD", dict(weight_decay=-1), "weight_decay"),
    ("SGD", dict(nesterov=True), "nesterov"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov"),
    ("Adam", dict(lr=-1e-3), "lr"), ("Adam", dict(eps=-1.0), "eps"),
    ("Adam", dict(betas=(1.0, 0.999)), r"betas\[0\]"),
    ("Adam", dict(betas=(0.9, -0.1)), r"betas\[1\]"),
    ("AdamW", dict(weight_decay=-0.1), "weight_decay"),
    ("RMSprop", dict(alpha=-0.9), "alpha"), ("RMSprop", dict(momentum=-1), "momentum"),
    ("RMSprop", dict(eps=-1e-8), "eps"),
    ("Adagrad", dict(lr_decay=-0.1), "lr_decay"),
    ("Adagrad", dict(initial_accumulator_value=-1), "initial_accumulator_value"),
]


@pytest.mark.parametrize("name,kwargs,option", INVALID,
                         ids=[f"{n}-{o}" for n, _, o in INVALID])
def test_invalid_options_raise_value_errors_naming_the_option(name, kwargs, option):
    ours, theirs = make_params(np.float32)
    with pytest.raises(ValueError):
        getattr(torch.optim, name)(theirs, **kwargs)
    with pytest.raises(ValueError, match=option):
        getattr(optim, name)(ours, **kwargs)


def test_an_invalid_option_in_a_param_group_is_rejected_too():
    ours, _ = make_params(np.float32)
    with pytest.raises(ValueError, match="lr"):
        optim.Adam([{"params": ours[:1]}, {"params": ours[1:], "lr": -1.0}])


def test_bad_parameter_lists_are_rejected():
    ours, _ = make_params(np.float32)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(ours[0])
    with pytest.raises(ValueError, match="more than one group"):
        optim.SGD([{"params": ours[:2]}, {"params": ours[1:]}])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([ours[0] * 2.0])
    with pytest.raises(TypeError, match="set"):
        optim.SGD([{"params": set(ours)}])


def test_named_parameters_are_recorded_as_param_names_like_torch():
    ours, theirs = make_params(np.float32)
    o_opt = optim.SGD([(f"w{i}", p) for i, p in enumerate(ours)], lr=0.1)
    t_opt = torch.optim.SGD([(f"w{i}", p) for i, p in enumerate(theirs)], lr=0.1)
    assert o_opt.param_groups[0]["params"][1] is ours[1]
    assert (o_opt.state_dict()["param_groups"][0]["param_names"]
            == t_opt.state_dict()["param_groups"][0]["param_names"] == ["w0", "w1", "w2"])
    with pytest.raises(ValueError, match="named"):
        o_opt.add_param_group({"params": [rnnkit.tensor([1.0], requires_grad=True)]})


# -- state dicts -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_has_torchs_layout(name):
    ours, theirs = make_params(np.float64)

    def groups(params):
        return [{"params": params[:1], "lr": 0.2}, {"params": params[1:]}]
    o_opt = getattr(optim, name)(groups(ours), **RICH[name])
    t_opt = getattr(torch.optim, name)(groups(theirs), **RICH[name])
    grads = gradient_sequence(np.float64, steps=3)
    run(o_opt, ours, grads)
    run(t_opt, theirs, grads)
    o_sd, t_sd = o_opt.state_dict(), torch_state_as_numpy(t_opt.state_dict())
    assert o_sd["state"].keys() == t_sd["state"].keys()
    for o_group, t_group in zip(o_sd["param_groups"], t_sd["param_groups"]):
        assert o_group == {k: t_group[k] for k in o_group}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_round_trip_continues_identically(name):
    grads = gradient_sequence(np.float32)
    straight, _ = make_params(np.float32)
    opt = getattr(optim, name)(straight, **RICH[name])
    run(opt, straight, grads)

    first, _ = make_params(np.float32)
    opt = getattr(optim, name)(first, **RICH[name])
    run(opt, first, grads[:5])
    saved = opt.state_dict()
    resumed = [rnnkit.tensor(p.data.copy(), requires_grad=True) for p in first]
    opt = getattr(optim, name)(resumed, lr=123.0)      # options come from the state dict
    opt.load_state_dict(saved)
    run(opt, resumed, grads[5:])
    for a, b in zip(resumed, straight):
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_loading_torchs_state_dict_continues_like_torch(name):
    grads = gradient_sequence(np.float64)
    ours, theirs = make_params(np.float64)
    t_opt = getattr(torch.optim, name)(theirs, **RICH[name])
    run(t_opt, theirs, grads[:5])
    ours = [rnnkit.tensor(t.detach().numpy().copy(), requires_grad=True) for t in theirs]
    o_opt = getattr(optim, name)(ours)
    o_opt.load_state_dict(torch_state_as_numpy(t_opt.state_dict()))
    run(o_opt, ours, grads[5:])
    run(t_opt, theirs, grads[5:])
    assert_same_values(ours, theirs, np.float64)


def test_state_dict_holds_copies():
    ours, _ = make_params(np.float32)
    opt = optim.Adam(ours)
    run(opt, ours, gradient_sequence(np.float32, steps=2))
    saved = opt.state_dict()
    before = saved["state"][0]["exp_avg"].copy()
    run(opt, ours, gradient_sequence(np.float32, steps=2, seed=5))
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], before)
    assert saved["state"][0]["step"] == 2


def test_loaded_state_takes_the_parameters_dtype():
    ours, _ = make_params(np.float64)
    opt = optim.Adam(ours)
    run(opt, ours, gradient_sequence(np.float64, steps=1))
    saved = opt.state_dict()
    narrow, _ = make_params(np.float32)
    opt32 = optim.Adam(narrow)
    opt32.load_state_dict(saved)
    assert opt32.state[narrow[0]]["exp_avg"].dtype == np.float32


def test_load_state_dict_rejects_mismatched_groups_and_shapes():
    ours, _ = make_params(np.float32)
    opt = optim.Adam(ours)
    run(opt, ours, gradient_sequence(np.float32, steps=1))
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="groups"):
        optim.Adam([{"params": ours[:1]}, {"params": ours[1:]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="parameters"):
        optim.Adam(ours[:2]).load_state_dict(saved)
    swapped = [ours[1], ours[0], ours[2]]
    with pytest.raises(ValueError, match="shape"):
        optim.Adam(swapped).load_state_dict(saved)


def test_adamw_stays_decoupled_after_loading_an_adam_state_dict():
    ours, _ = make_params(np.float32)
    saved = optim.Adam(ours, weight_decay=0.1).state_dict()
    opt = optim.AdamW(ours)
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


# -- learning-rate schedulers ----------------------------------------------------------------
def scheduler_pair(make, lrs=(0.1, 0.02)):
    ours, theirs = make_params(np.float32)
    o_opt = optim.SGD([{"params": ours[:1], "lr": lrs[0]}, {"params": ours[1:], "lr": lrs[1]}])
    t_opt = torch.optim.SGD([{"params": theirs[:1], "lr": lrs[0]},
                             {"params": theirs[1:], "lr": lrs[1]}])
    return (o_opt, make(lr_scheduler, o_opt)), (t_opt, make(torch.optim.lr_scheduler, t_opt))


SCHEDULERS = {
    "StepLR": lambda m, opt: m.StepLR(opt, step_size=3, gamma=0.5),
    "StepLR-default-gamma": lambda m, opt: m.StepLR(opt, 2),
    "ExponentialLR": lambda m, opt: m.ExponentialLR(opt, gamma=0.9),
}


@pytest.mark.parametrize("make", SCHEDULERS.values(), ids=SCHEDULERS.keys())
def test_epoch_schedulers_produce_torchs_lr_sequence(make):
    (o_opt, ours), (t_opt, theirs) = scheduler_pair(make)
    for _ in range(12):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-15)
        assert [g["lr"] for g in o_opt.param_groups] == pytest.approx(
            [g["lr"] for g in t_opt.param_groups], rel=1e-15)
        o_opt.step()
        t_opt.step()
        ours.step()
        theirs.step()


@pytest.mark.parametrize("make", SCHEDULERS.values(), ids=SCHEDULERS.keys())
def test_epoch_scheduler_state_dict_matches_torch_and_resumes(make):
    (o_opt, ours), (t_opt, theirs) = scheduler_pair(make)
    for _ in range(5):
        o_opt.step()
        t_opt.step()
        ours.step()
        theirs.step()
    o_sd, t_sd = ours.state_dict(), theirs.state_dict()
    for key in ("base_lrs", "last_epoch", "_last_lr", "_step_count", "gamma"):
        assert o_sd[key] == pytest.approx(t_sd[key], rel=1e-15), key
    (o_opt2, resumed), _ = scheduler_pair(make)
    o_opt2.load_state_dict(o_opt.state_dict())
    resumed.load_state_dict(o_sd)
    for _ in range(6):
        ours.step()
        resumed.step()
        assert resumed.get_last_lr() == ours.get_last_lr()


PLATEAU = grid(mode=["min", "max"], threshold_mode=["rel", "abs"], patience=[0, 2],
               cooldown=[0, 2], min_lr=[0, [0.004, 0.0005]])
METRICS = [1.0, 0.9, 0.9, 0.95, 0.91, 0.9, 0.9, 0.9, 0.85, 0.86, 0.87, 0.88, 0.5, 0.5,
           0.50001, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.1, 1.1, 1.1, 1.1]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=lambda kw: "-".join(map(str, kw.values())))
def test_reduce_lr_on_plateau_follows_torch(kwargs):
    make = lambda m, opt: m.ReduceLROnPlateau(opt, factor=0.5, threshold=0.01, **kwargs)
    (o_opt, ours), (t_opt, theirs) = scheduler_pair(make)
    for metric in METRICS:
        ours.step(metric)
        theirs.step(metric)
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter) == \
            (theirs.best, theirs.num_bad_epochs, theirs.cooldown_counter)
    assert ours.get_last_lr() != [0.1, 0.02]    # the sequence did reduce


def test_reduce_lr_on_plateau_accepts_a_tensor_metric_and_resumes_from_its_state_dict():
    make = lambda m, opt: m.ReduceLROnPlateau(opt, patience=1)
    (o_opt, ours), _ = scheduler_pair(make)
    for metric in METRICS[:6]:
        ours.step(rnnkit.tensor(metric))
    (_, resumed), _ = scheduler_pair(make)
    resumed.load_state_dict(ours.state_dict())
    resumed.optimizer.load_state_dict(o_opt.state_dict())
    for metric in METRICS[6:]:
        ours.step(metric)
        resumed.step(metric)
        assert resumed.get_last_lr() == ours.get_last_lr()


@pytest.mark.parametrize("kwargs,option", [
    (dict(factor=1.0), "factor"), (dict(mode="median"), "mode"),
    (dict(threshold_mode="pct"), "threshold_mode"), (dict(min_lr=[0.0]), "min_lr")])
def test_reduce_lr_on_plateau_rejects_bad_options_naming_them(kwargs, option):
    (o_opt, _), (t_opt, _) = scheduler_pair(lambda m, opt: None)
    with pytest.raises(ValueError):
        torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kwargs)
    with pytest.raises(ValueError, match=option):
        lr_scheduler.ReduceLROnPlateau(o_opt, **kwargs)


# -- gradient clipping -------------------------------------------------------------------------
def clip_pair(dtype, scale=1.0, missing=(1,)):
    ours, theirs = make_params(dtype)
    grads = [None if i in missing else scale * g
             for i, g in enumerate(gradient_sequence(dtype, steps=1)[0])]
    set_grads(ours, theirs, grads)
    return ours, theirs


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_equals_torch(dtype, norm_type, max_norm):
    ours, theirs = clip_pair(dtype)
    o_total = clip.clip_grad_norm_(ours, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(o_total, rnnkit.Tensor) and o_total.shape == ()
    assert_same_values([o_total], [t_total], dtype)
    assert_same_values([p.grad for p in ours if p.grad is not None],
                       [p.grad for p in theirs if p.grad is not None], dtype)
    assert ours[1].grad is None


def test_clip_grad_norm_takes_a_single_tensor_or_a_generator():
    ours, theirs = clip_pair(np.float32, missing=())
    o_single = clip.clip_grad_norm_(ours[0], 0.1)
    t_single = torch.nn.utils.clip_grad_norm_(theirs[0], 0.1)
    assert_same_values([o_single, ours[0].grad], [t_single, theirs[0].grad], np.float32)
    o_total = clip.clip_grad_norm_((p for p in ours), 0.05)
    t_total = torch.nn.utils.clip_grad_norm_((p for p in theirs), 0.05)
    assert_same_values([o_total] + [p.grad for p in ours],
                       [t_total] + [p.grad for p in theirs], np.float32)


def test_clip_grad_norm_of_no_gradients_is_zero():
    ours, theirs = clip_pair(np.float32, missing=(0, 1, 2))
    assert clip.clip_grad_norm_(ours, 1.0).item() == torch.nn.utils.clip_grad_norm_(
        theirs, 1.0).item() == 0.0


def test_a_nonfinite_norm_raises_only_when_asked_and_otherwise_spreads_like_torch():
    ours, theirs = clip_pair(np.float32)
    ours[0].grad.data[0, 0] = np.nan
    theirs[0].grad[0, 0] = float("nan")
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        clip.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert np.isnan(clip.clip_grad_norm_(ours, 1.0).item())
    assert np.isnan(torch.nn.utils.clip_grad_norm_(theirs, 1.0).item())
    assert np.isnan(ours[2].grad.data).all() and torch.isnan(theirs[2].grad).all()


def test_clip_grad_norm_rejects_an_invalid_norm_type():
    ours, _ = clip_pair(np.float32)
    with pytest.raises(ValueError, match="norm_type"):
        clip.clip_grad_norm_(ours, 1.0, norm_type=-1)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("clip_value", [0.3, 1.5, 10.0])
def test_clip_grad_value_equals_torch(dtype, clip_value):
    ours, theirs = clip_pair(dtype, scale=2.0)
    buffer = ours[0].grad.data
    assert clip.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    assert ours[0].grad.data is buffer and ours[1].grad is None
    assert_same_values([p.grad for p in ours if p.grad is not None],
                       [p.grad for p in theirs if p.grad is not None], dtype)


def test_clip_grad_value_rejects_a_negative_value():
    ours, _ = clip_pair(np.float32)
    with pytest.raises(ValueError, match="clip_value"):
        clip.clip_grad_value_(ours, -1.0)
