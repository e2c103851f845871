"""rnnkit.save / rnnkit.load: exact round trips, atomic writes, and clear refusals.

Every supported type comes back with its exact values, dtype, container type and key
order; writes to a path are atomic; a damaged file, another format, or a file PyTorch
wrote (made here by real torch) raises an error that names the file and what it is, and
loading never unpickles.
"""
import enum
import io
import json
import math
import os
import pathlib
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import rnnkit
from rnnkit import nn


def round_trip(obj):
    buffer = io.BytesIO()
    rnnkit.save(obj, buffer)
    buffer.seek(0)
    return rnnkit.load(buffer)


def assert_same(a, b):
    """Equal values with equal types all the way down (dtypes, containers, key order)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, rnnkit.Tensor):
        assert a.requires_grad == b.requires_grad
        a, b = a.data, b.data
    if isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for x, y in zip(a, b):
            assert_same(x, y)
            assert_same(a[x], b[y])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


# -- round trips ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64, np.int32,
                                   np.uint8, np.bool_, np.complex64])
def test_arrays_keep_dtype_and_values(dtype):
    a = (np.random.default_rng(0).normal(size=(3, 4)) * 10).astype(dtype)
    assert_same(round_trip(a), a)


def test_unusual_arrays_round_trip():
    for a in (np.zeros((0, 3), np.float32), np.array(2.5), np.arange(12.0).reshape(3, 4).T,
              np.array(["ab", "céd"]), np.arange(6, dtype=">i4")):
        assert_same(round_trip(a), a)


@pytest.mark.parametrize("requires_grad", [False, True])
def test_tensors_keep_dtype_and_requires_grad(requires_grad):
    for data in (np.linspace(-1, 1, 6, dtype=np.float32), np.ones((2, 2), np.float64)):
        t = rnnkit.tensor(data, requires_grad=requires_grad)
        assert_same(round_trip(t), t)
    ints = rnnkit.tensor([[1, 2], [3, 4]])
    assert_same(round_trip(ints), ints)


def test_numpy_scalars_keep_their_dtype():
    for x in (np.float32(1.5), np.int16(-3), np.bool_(True), np.float64(np.pi)):
        assert_same(round_trip(x), x)


def test_python_values_keep_their_types():
    values = [None, True, False, 0, 1, -7, 2 ** 80, 1.0, 0.1, -2.5e-300, float("inf"),
              float("-inf"), float("nan"), "", "snowman ☃ and \"quotes\"", [], (), {}]
    assert_same(round_trip(values), values)


def test_state_dict_keeps_ordered_dict_and_key_order():
    sd = OrderedDict([("z.weight", np.ones(3, np.float32)), ("a.bias", np.zeros(2)),
                      ("m.weight", np.eye(2, dtype=np.float32))])
    assert_same(round_trip(sd), sd)


def test_dict_keys_json_cannot_keep_round_trip_exactly():
    d = {1: "int", "1": "str", (1, "a"): "tuple", 2.5: "float", None: "none", True: "bool",
         (): "empty tuple", ((1, 2), 3): "nested"}
    assert_same(round_trip(d), d)


def test_nested_checkpoints_round_trip():
    model = nn.LSTM(3, 4)
    opt = rnnkit.optim.Adam(model.parameters(), lr=0.01)
    model(np.ones((2, 1, 3), np.float32))[0].sum().backward()
    opt.step()
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
            "history": [(1, 0.5), (2, 0.25)], "note": None}
    assert_same(round_trip(ckpt), ckpt)


def test_the_same_tensor_twice_comes_back_as_one_object():
    t = rnnkit.tensor([1.0, 2.0])
    a = np.arange(3)
    out = round_trip({"x": t, "y": t, "a": [a, a]})
    assert out["x"] is out["y"] and out["a"][0] is out["a"][1]


def test_a_module_state_dict_saved_to_a_path_loads_into_a_new_module(tmp_path):
    rnnkit.manual_seed(0)
    a, b = nn.GRU(5, 7, num_layers=2), nn.GRU(5, 7, num_layers=2)
    path = tmp_path / "gru.pt"
    rnnkit.save(a.state_dict(), path)
    b.load_state_dict(rnnkit.load(str(path)))
    x = np.random.default_rng(0).normal(size=(4, 2, 5)).astype(np.float32)
    np.testing.assert_array_equal(a(x)[0].numpy(), b(x)[0].numpy())


def test_real_binary_file_objects_work(tmp_path):
    path = tmp_path / "obj.bin"
    with open(path, "wb") as f:
        rnnkit.save({"w": np.arange(4.0)}, f)
    with open(path, "rb") as f:
        assert_same(rnnkit.load(f), {"w": np.arange(4.0)})


def test_the_file_is_a_zip_of_json_and_npy_arrays(tmp_path):
    path = tmp_path / "x.pt"
    rnnkit.save({"w": np.arange(3.0)}, path)
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["arrays/0.npy", "object.json"]
        assert json.loads(z.read("object.json"))["format"] == "rnnkit.save"
        with z.open("arrays/0.npy") as m:
            np.testing.assert_array_equal(np.lib.format.read_array(m, allow_pickle=False),
                                          np.arange(3.0))


# -- what save refuses ------------------------------------------------------------------------
class Custom:
    pass


class Colour(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize("obj, match", [
    ({"a": {1, 2}}, r"obj\['a'\], a builtins.set"),
    ([Custom()], r"obj\[0\], a .*Custom"),
    ({"x": np.array([object()])}, "dtype object"),
    ({frozenset(): 1}, "key of type frozenset"),
    ([Colour.RED], r"obj\[0\], a .*Colour"),
])
def test_unsupported_objects_are_errors_naming_where_they_are(obj, match):
    with pytest.raises(TypeError, match=match):
        rnnkit.save(obj, io.BytesIO())


def test_a_reference_cycle_is_an_error():
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="cycle"):
        rnnkit.save(loop, io.BytesIO())


def test_text_mode_files_are_refused(tmp_path):
    with open(tmp_path / "t.txt", "w") as f, pytest.raises(TypeError, match="binary"):
        rnnkit.save([1], f)


# -- atomic writes ----------------------------------------------------------------------------
def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    rnnkit.save({"w": np.zeros(3)}, path)
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="disk full"):
        rnnkit.save({"w": np.ones(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permissions")
def test_an_atomic_write_gets_the_permissions_open_would_give(tmp_path):
    old = os.umask(0o027)
    try:
        rnnkit.save([1], tmp_path / "new.pt")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "new.pt").st_mode & 0o777 == 0o640    # 0o666 less the umask

    kept = tmp_path / "kept.pt"
    kept.write_bytes(b"")
    os.chmod(kept, 0o604)
    rnnkit.save([1], kept)
    assert os.stat(kept).st_mode & 0o777 == 0o604     # an existing file keeps its mode


def test_an_unsavable_object_leaves_the_old_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    rnnkit.save([1, 2], path)
    with pytest.raises(TypeError):
        rnnkit.save([1, Custom()], path)
    assert rnnkit.load(path) == [1, 2]
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_keras_saving_uses_the_same_atomic_writer():
    from rnnkit import serialization
    from rnnkit.keras.models import saving
    assert saving.atomic_write is serialization.atomic_write


# -- what load refuses ------------------------------------------------------------------------
def saved_bytes(obj):
    buffer = io.BytesIO()
    rnnkit.save(obj, buffer)
    return buffer.getvalue()


def test_a_truncated_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "cut.pt"
    data = saved_bytes({"w": np.arange(1000.0)})
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.pt.*truncated or corrupt"):
        rnnkit.load(path)


def test_a_corrupt_array_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "bad.pt"
    data = bytearray(saved_bytes({"w": np.arange(1000.0)}))
    data[len(data) // 2] ^= 0xFF                 # one flipped byte inside the array
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"bad\.pt.*(corrupt|CRC)"):
        rnnkit.load(path)


def test_a_tampered_structure_is_an_error(tmp_path):
    path = tmp_path / "odd.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("object.json", json.dumps({"format": "rnnkit.save", "version": 1,
                                              "arrays": [], "object": {"tensor": 3}}))
    with pytest.raises(ValueError, match=r"odd\.pt.*corrupt"):
        rnnkit.load(path)


def test_an_array_that_needs_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt"
    payload = io.BytesIO()
    np.save(payload, np.array([Exploit(str(marker))], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("object.json", json.dumps({
            "format": "rnnkit.save", "version": 1, "object": {"ndarray": 0},
            "arrays": [{"dtype": "|O", "shape": [1]}]}))
        z.writestr("arrays/0.npy", payload.getvalue())
    with pytest.raises(ValueError, match=r"evil\.pt.*arrays/0\.npy"):
        rnnkit.load(path)
    assert not marker.exists()


class Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.torch
def test_a_torch_save_file_is_recognised_and_refused(tmp_path):
    torch = pytest.importorskip("torch", reason="the PyTorch oracle is not installed")
    path = tmp_path / "torch.pt"
    torch.save(torch.nn.Linear(2, 3).state_dict(), path)
    with pytest.raises(ValueError, match=r"torch\.pt.*PyTorch file.*later"):
        rnnkit.load(path)


@pytest.mark.torch
def test_a_legacy_torch_pickle_is_recognised_and_refused(tmp_path):
    torch = pytest.importorskip("torch", reason="the PyTorch oracle is not installed")
    path = tmp_path / "legacy.pt"
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match=r"legacy\.pt.*pickle.*never unpickles"):
        rnnkit.load(path)


@pytest.mark.parametrize("content, match", [
    (b"", "is empty"),
    (b"hello, world\n", "not a zip archive"),
    (b"\x89HDF\r\n\x1a\n" + bytes(100), "HDF5"),
])
def test_other_content_is_named(tmp_path, content, match):
    path = tmp_path / "other.bin"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"other\.bin.*" + match):
        rnnkit.load(path)


def test_numpy_files_are_named(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(2))
    np.savez(tmp_path / "b.npz", x=np.ones(2))
    with pytest.raises(ValueError, match=r"a\.npy.*NumPy \.npy"):
        rnnkit.load(tmp_path / "a.npy")
    with pytest.raises(ValueError, match=r"b\.npz.*NumPy \.npz"):
        rnnkit.load(tmp_path / "b.npz")


def test_an_rnnkit_keras_model_file_is_named(tmp_path):
    from rnnkit.keras import layers, models
    model = models.Sequential([layers.Dense(2)])
    model.build((None, 3))
    model.save(str(tmp_path / "m.rnnkit"))
    with pytest.raises(ValueError, match="load_model"):
        rnnkit.load(tmp_path / "m.rnnkit")


def test_a_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "new.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("object.json", json.dumps({"format": "rnnkit.save", "version": 99,
                                              "arrays": [], "object": None}))
    with pytest.raises(ValueError, match="version 99"):
        rnnkit.load(path)


# -- load's options ---------------------------------------------------------------------------
def test_map_location_cpu_forms_are_accepted():
    data = saved_bytes({"w": rnnkit.tensor([1.0])})
    for loc in (None, "cpu", {"cuda:0": "cpu"}, lambda storage, location: storage):
        out = rnnkit.load(io.BytesIO(data), map_location=loc)
        np.testing.assert_array_equal(out["w"].numpy(), [1.0])


def test_a_map_location_callable_may_replace_tensors():
    data = saved_bytes([rnnkit.tensor([1.0])])
    out = rnnkit.load(io.BytesIO(data), map_location=lambda t, loc: t * 2)
    np.testing.assert_array_equal(out[0].numpy(), [2.0])


@pytest.mark.parametrize("loc", ["cuda", "cuda:0", "mps", {"cpu": "cuda:1"}])
def test_map_location_to_another_device_is_an_error(loc):
    with pytest.raises(ValueError, match="CPU only"):
        rnnkit.load(io.BytesIO(saved_bytes([1])), map_location=loc)


def test_weights_only_is_accepted_and_mmap_is_refused():
    data = saved_bytes({"a": 1})
    assert rnnkit.load(io.BytesIO(data), weights_only=True) == {"a": 1}
    assert rnnkit.load(io.BytesIO(data), weights_only=False) == {"a": 1}
    with pytest.raises(ValueError, match="mmap"):
        rnnkit.load(io.BytesIO(data), mmap=True)


def test_paths_may_be_pathlib(tmp_path):
    rnnkit.save([1.5], pathlib.Path(tmp_path) / "p.pt")
    assert rnnkit.load(pathlib.Path(tmp_path) / "p.pt") == [1.5]
