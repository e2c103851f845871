"""rnnkit.utils.data against torch.utils.data on the same datasets.

Without shuffling, both loaders give the same batches: the same values, dtypes and
containers (dicts, namedtuples, tuples become lists, strings stay lists). With
shuffling, the same batch sizes and lengths, every epoch a permutation, epochs that
differ, and runs that repeat under a seed. random_split makes torch's lengths; the
option conflicts torch refuses are refused too, and the worker options rnnkit cannot
honour are errors rather than silently dropped.
"""
import collections
import warnings

import numpy as np
import pytest

import rnnkit
from rnnkit.utils import data as D

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch", reason="the PyTorch oracle is not installed")
TD = torch.utils.data

Point = collections.namedtuple("Point", ["x", "y"])


def tree(x):
    """A framework-free description of a batch: tensors as (dtype, values)."""
    if isinstance(x, rnnkit.Tensor):
        return ("tensor", x.numpy().dtype, x.numpy().tolist())
    if isinstance(x, torch.Tensor):
        return ("tensor", x.numpy().dtype, x.numpy().tolist())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, x._fields, [tree(v) for v in x])
    if isinstance(x, dict):
        return (type(x).__name__, [(k, tree(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [tree(v) for v in x])
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype, x.tolist())
    return (type(x).__name__, x)


class Records:
    """A map-style dataset of mixed samples (no base class: both loaders accept it)."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": np.arange(3, dtype=np.float32) + i, "n": i, "w": i / 2,
                "name": f"s{i}", "flag": i % 2 == 0, "pair": (i, float(i)),
                "seq": [np.int32(i), np.float64(i)], "point": Point(np.array([i, -i]), i / 4)}


def tensor_datasets(n=10):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = rng.integers(0, 5, size=n)
    return (D.TensorDataset(rnnkit.tensor(x), rnnkit.tensor(y)),
            TD.TensorDataset(torch.tensor(x), torch.tensor(y)))


def batches(loader):
    return [tree(b) for b in loader]


# -- collation --------------------------------------------------------------------------------
COLLATE_CASES = {
    "python ints": [1, 2, 3],
    "python floats are float64": [0.5, 1.5],
    "float then int": [2.5, 1],
    "int then float is float32": [1, 2.5],
    "bools": [True, False],
    "numpy float32 scalars": [np.float32(1), np.float32(2)],
    "numpy int32 with a python int": [np.int32(1), 2],
    "numpy float32 with a python float": [np.float32(1), 2.0],
    "uint8 with int8": [np.uint8(1), np.int8(2)],
    "0-d arrays": [np.array(1.5), np.array(2.5)],
    "int32 arrays": [np.array([1, 2], np.int32), np.array([3, 4], np.int32)],
    "float32 matrices": [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "strings": ["a", "b"],
    "bytes": [b"x", b"y"],
    "tuples": [(1, "a", 0.5), (2, "b", 1.5)],
    "lists": [[1, 2], [3, 4]],
    "dicts": [{"k": 1.0, "j": [1, 2]}, {"k": 2.0, "j": [3, 4]}],
    "ordered dicts": [collections.OrderedDict(b=1, a=2), collections.OrderedDict(b=3, a=4)],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
}


@pytest.mark.parametrize("case", list(COLLATE_CASES))
def test_default_collate_equals_torch(case):
    batch = COLLATE_CASES[case]
    assert tree(D.default_collate(batch)) == tree(TD.default_collate(batch))


@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("bool", "uint8"),
                                    ("float32", "float64"), ("int32", "int64")])
def test_collating_tensors_of_mixed_dtypes_promotes_as_torch(dtypes):
    arrays = [np.array([1, 0], dtype=d) for d in dtypes]
    ours = D.default_collate([rnnkit.tensor(a) for a in arrays])
    theirs = TD.default_collate([torch.tensor(a) for a in arrays])
    assert tree(ours) == tree(theirs)


def test_collating_keeps_the_graph_of_tensors_that_require_grad():
    a = rnnkit.tensor([1.0, 2.0], requires_grad=True)
    b = rnnkit.tensor([3.0, 4.0], requires_grad=True)
    (D.default_collate([a, b]) * rnnkit.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy(), [3.0, 4.0])


@pytest.mark.parametrize("batch, error", [
    ([[1, 2], [3]], RuntimeError),
    ([None, None], TypeError),
    ([np.array(["a"]), np.array(["b"])], TypeError),
    ([object(), object()], TypeError),
])
def test_default_collate_refuses_what_torch_refuses(batch, error):
    with pytest.raises(error):
        TD.default_collate(batch)
    with pytest.raises(error):
        D.default_collate(batch)


def test_tensors_of_unequal_shapes_are_refused_as_by_torch():
    with pytest.raises(RuntimeError, match="equal size"):
        TD.default_collate([torch.zeros(2), torch.zeros(3)])
    with pytest.raises(RuntimeError, match=r"equal size.*\[2\].*\[3\]"):
        D.default_collate([rnnkit.tensor(np.zeros(2)), rnnkit.tensor(np.zeros(3))])


def test_default_convert_equals_torch():
    sample = {"a": np.arange(3), "b": (np.float32(2), "s"), "c": Point(np.ones(2), 1)}
    assert tree(D.default_convert(sample)) == tree(TD.default_convert(sample))


# -- loading in order -------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size", [1, 3, 7, 10])
@pytest.mark.parametrize("drop_last", [False, True])
def test_records_batches_equal_torch(batch_size, drop_last):
    ours = D.DataLoader(Records(), batch_size=batch_size, drop_last=drop_last)
    theirs = TD.DataLoader(Records(), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert batches(ours) == batches(theirs)


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (4, False)])
def test_tensor_dataset_batches_equal_torch(batch_size, drop_last):
    ours_ds, theirs_ds = tensor_datasets()
    ours = D.DataLoader(ours_ds, batch_size=batch_size, drop_last=drop_last)
    theirs = TD.DataLoader(theirs_ds, batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert batches(ours) == batches(theirs)


def test_a_tensor_dataset_of_arrays_gives_the_same_batches_as_of_tensors():
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    from_arrays = batches(D.DataLoader(D.TensorDataset(x, y), batch_size=4))
    theirs = batches(TD.DataLoader(TD.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                   batch_size=4))
    assert from_arrays == theirs


def test_iterating_twice_gives_the_same_batches():
    loader = D.DataLoader(Records(), batch_size=2)
    assert batches(loader) == batches(loader)


def test_batch_size_none_yields_converted_samples_like_torch():
    assert (batches(D.DataLoader(Records(), batch_size=None))
            == batches(TD.DataLoader(Records(), batch_size=None)))


def test_a_sampler_and_a_batch_sampler_choose_the_samples_like_torch():
    order = [4, 0, 6, 2]
    assert (batches(D.DataLoader(Records(), batch_size=3, sampler=order))
            == batches(TD.DataLoader(Records(), batch_size=3, sampler=order)))
    groups = [[1, 2], [6], [0, 3, 5]]
    ours = D.DataLoader(Records(), batch_sampler=groups)
    theirs = TD.DataLoader(Records(), batch_sampler=groups)
    assert len(ours) == len(theirs) == 3
    assert batches(ours) == batches(theirs)


def test_a_custom_collate_fn_receives_the_list_of_samples():
    seen = []
    loader = D.DataLoader(Records(), batch_size=4, collate_fn=lambda s: seen.append(s) or 0)
    list(loader)
    assert [[r["n"] for r in s] for s in seen] == [[0, 1, 2, 3], [4, 5, 6]]


def make_stream(base, n=7):
    class Stream(base):
        def __iter__(self):
            return iter([{"v": np.float32(i), "i": i} for i in range(n)])

        def __len__(self):
            return n

    return Stream()


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (None, False),
                                                   (7, False)])
def test_iterable_datasets_batch_like_torch(batch_size, drop_last):
    ours = D.DataLoader(make_stream(D.IterableDataset), batch_size=batch_size,
                        drop_last=drop_last)
    theirs = TD.DataLoader(make_stream(TD.IterableDataset), batch_size=batch_size,
                           drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert batches(ours) == batches(theirs)


# -- shuffling --------------------------------------------------------------------------------
def epoch_indices(loader):
    return [int(i) for xb, yb in loader for i in yb.numpy()]


def indexed(n):
    return D.TensorDataset(rnnkit.tensor(np.zeros((n, 1))), rnnkit.tensor(np.arange(n)))


@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True),
                                                      (12, 4, False)])
def test_shuffled_batches_have_torch_sizes(n, batch_size, drop_last):
    ours = D.DataLoader(indexed(n), batch_size=batch_size, shuffle=True, drop_last=drop_last)
    theirs = TD.DataLoader(TD.TensorDataset(torch.zeros(n, 1), torch.arange(n)),
                           batch_size=batch_size, shuffle=True, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [len(b[1]) for b in ours] == [len(b[1]) for b in theirs]


def test_each_shuffled_epoch_is_a_new_permutation():
    loader = D.DataLoader(indexed(50), batch_size=8, shuffle=True)
    a, b = epoch_indices(loader), epoch_indices(loader)
    assert sorted(a) == sorted(b) == list(range(50))
    assert a != b and a != list(range(50))


def test_manual_seed_makes_shuffled_epochs_repeat():
    loader = D.DataLoader(indexed(30), batch_size=4, shuffle=True)
    rnnkit.manual_seed(7)
    first = [epoch_indices(loader) for _ in range(3)]
    rnnkit.manual_seed(7)
    assert [epoch_indices(loader) for _ in range(3)] == first


def test_an_int_generator_repeats_runs_and_varies_epochs():
    def run():
        loader = D.DataLoader(indexed(30), batch_size=4, shuffle=True, generator=3)
        return [epoch_indices(loader) for _ in range(2)]

    one, two = run(), run()
    assert one == two and one[0] != one[1]


def test_a_numpy_generator_drives_the_shuffle():
    orders = [epoch_indices(D.DataLoader(indexed(20), batch_size=5, shuffle=True,
                                         generator=np.random.default_rng(11)))
              for _ in range(2)]
    assert orders[0] == orders[1]


def test_random_sampler_with_replacement_has_torch_length_and_range():
    ours = D.RandomSampler(range(5), replacement=True, num_samples=70, generator=0)
    theirs = TD.RandomSampler(range(5), replacement=True, num_samples=70)
    drawn = list(ours)
    assert len(ours) == len(theirs) == len(drawn) == 70
    assert set(drawn) == set(range(5))


def test_random_sampler_beyond_the_length_repeats_whole_permutations():
    drawn = list(D.RandomSampler(range(4), num_samples=10, generator=0))
    assert len(drawn) == len(list(TD.RandomSampler(range(4), num_samples=10))) == 10
    assert sorted(drawn[:4]) == sorted(drawn[4:8]) == [0, 1, 2, 3]


@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_groups_like_torch(drop_last):
    ours = D.BatchSampler(D.SequentialSampler(range(10)), 3, drop_last)
    theirs = TD.BatchSampler(TD.SequentialSampler(range(10)), 3, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


# -- datasets and random_split ----------------------------------------------------------------
@pytest.mark.parametrize("n, lengths", [(10, [0.5, 0.5]), (5, [0.5, 0.5]), (7, [0.3, 0.3, 0.4]),
                                        (11, [0.8, 0.1, 0.1]), (3, [0.1, 0.9]),
                                        (10, [3, 7]), (100, [0.25] * 4), (9, [1.0])])
def test_random_split_lengths_equal_torch(n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = D.random_split(range(n), lengths, generator=0)
        theirs = TD.random_split(range(n), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    picked = [i for s in ours for i in (s[j] for j in range(len(s)))]
    assert sorted(picked) == list(range(n))


def test_random_split_is_repeatable_under_a_seed():
    a = [list(s.indices) for s in D.random_split(range(20), [0.5, 0.5], generator=4)]
    b = [list(s.indices) for s in D.random_split(range(20), [0.5, 0.5], generator=4)]
    assert a == b and a[0] != list(range(10))


def test_random_split_warns_of_each_empty_split_like_torch():
    with pytest.warns(UserWarning) as theirs:
        TD.random_split(range(2), [0.9, 0.05, 0.05])
    with pytest.warns(UserWarning) as ours:
        D.random_split(range(2), [0.9, 0.05, 0.05])
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert len(ours) == 2


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.4], [11, -1]])
def test_random_split_refuses_lengths_that_do_not_cover_the_dataset(lengths):
    with pytest.raises(ValueError):
        D.random_split(range(10), lengths)


def test_subset_and_concat_index_like_torch():
    ours = D.Subset(D.ConcatDataset([range(3), range(10, 14)]), [6, 0, 3])
    theirs = TD.Subset(TD.ConcatDataset([range(3), range(10, 14)]), [6, 0, 3])
    assert [ours[i] for i in range(3)] == [theirs[i] for i in range(3)] == [13, 0, 10]
    assert ours.dataset[-1] == theirs.dataset[-1] == 13


def test_tensor_dataset_refuses_mismatched_sizes_like_torch():
    with pytest.raises(AssertionError):
        TD.TensorDataset(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match=r"\[3, 4\]"):
        D.TensorDataset(rnnkit.tensor(np.zeros(3)), np.zeros(4))


# -- options ----------------------------------------------------------------------------------
CONFLICTS = {
    "sampler with shuffle": dict(sampler=[0, 1], shuffle=True),
    "batch_sampler with batch_size": dict(batch_sampler=[[0]], batch_size=2),
    "batch_sampler with drop_last": dict(batch_sampler=[[0]], drop_last=True),
    "batch_size None with drop_last": dict(batch_size=None, drop_last=True),
    "batch_size zero": dict(batch_size=0),
    "negative num_workers": dict(num_workers=-1),
    "negative timeout": dict(timeout=-1),
    "prefetch_factor without workers": dict(prefetch_factor=2),
    "persistent_workers without workers": dict(persistent_workers=True),
    "multiprocessing_context without workers": dict(multiprocessing_context="spawn"),
}


@pytest.mark.parametrize("case", list(CONFLICTS))
def test_option_conflicts_are_refused_like_torch(case):
    with pytest.raises(ValueError):
        TD.DataLoader(Records(), **CONFLICTS[case])
    with pytest.raises(ValueError):
        D.DataLoader(Records(), **CONFLICTS[case])


def test_shuffle_or_a_sampler_with_an_iterable_dataset_is_refused_like_torch():
    for kwargs in (dict(shuffle=True), dict(sampler=[0])):
        with pytest.raises(ValueError, match="IterableDataset"):
            TD.DataLoader(make_stream(TD.IterableDataset), **kwargs)
        with pytest.raises(ValueError, match="IterableDataset"):
            D.DataLoader(make_stream(D.IterableDataset), **kwargs)


@pytest.mark.parametrize("kwargs, name", [(dict(num_workers=2), "num_workers"),
                                          (dict(timeout=5), "timeout")])
def test_worker_options_rnnkit_cannot_honour_are_errors(kwargs, name):
    with pytest.raises(ValueError, match=name):
        D.DataLoader(Records(), **kwargs)


def test_pin_memory_warns_like_torch_without_an_accelerator():
    if torch.accelerator.is_available():
        pytest.skip("torch only warns when no accelerator is present")
    with pytest.warns(UserWarning, match="pin_memory"):
        iter(TD.DataLoader(Records(), pin_memory=True))
    with pytest.warns(UserWarning, match="pin_memory"):
        iter(D.DataLoader(Records(), pin_memory=True))


def test_batch_size_cannot_be_changed_after_construction_like_torch():
    for loader in (TD.DataLoader(Records()), D.DataLoader(Records())):
        with pytest.raises(ValueError, match="batch_size"):
            loader.batch_size = 4


def test_a_bad_generator_is_an_error_naming_it():
    with pytest.raises(TypeError, match="generator"):
        D.DataLoader(Records(), shuffle=True, generator="seed")
