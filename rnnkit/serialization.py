"""``rnnkit.save`` / ``rnnkit.load``: torch.save's uses, in a file that cannot run code.

    rnnkit.save(model.state_dict(), "model.pt")
    model.load_state_dict(rnnkit.load("model.pt"))

The file is a zip holding ``object.json`` (the structure: dicts with their key order and
key types, lists, tuples, numbers, strings, and references to arrays) and one
``arrays/<i>.npy`` per Tensor or ndarray, written and read with ``allow_pickle=False``.
Reading never unpickles, so ``weights_only`` holds whatever the caller passes.

Every write to a path is atomic (:func:`atomic_write`); every reader turns a damaged or
foreign file into a ``ValueError`` that names the file and says what it is.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from rnnkit._tensor import Tensor

FORMAT, VERSION = "rnnkit.save", 1
_JSON = "object.json"
# zip64 lets a member pass 2 GiB; below that it only costs a few header bytes.
_ZIP64_FROM = 1 << 31


# -- atomic files -------------------------------------------------------------------------
def atomic_write(path, write, overwrite=True):
    """Call ``write(binary_file)`` on a temporary file, then move it onto ``path``.

    The temporary file sits in the same directory (so ``os.replace`` is a rename), is
    flushed and fsynced before the rename, and is removed if anything fails: ``path``
    holds either its old content or the new one, never part of one.
    """
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save: {path!r} exists and overwrite=False")
    directory = os.path.dirname(os.path.abspath(path))
    mode = _file_mode(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                               suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)   # mkstemp makes 0o600; the file should look like open()'s
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _file_mode(path):
    """The permissions ``open(path, "wb")`` would leave: an existing file keeps its own,
    a new one gets 0o666 less the process's umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


# -- save ---------------------------------------------------------------------------------
def save(obj, f):
    """Write ``obj`` to ``f`` (a path, str or os.PathLike, or a binary file object).

    obj may nest dicts (``dict``/``OrderedDict``; keys str, int, float, bool, None or
    tuples of those, order kept), lists and tuples of: rnnkit Tensors (dtype and
    ``requires_grad`` kept; a Parameter comes back as a plain Tensor), NumPy arrays and
    NumPy scalars (dtype kept), Python ints, floats (nan and inf included), bools, strings
    and None. The same Tensor or array saved twice comes back as one object. Anything else
    raises a TypeError that names it and where it sits.
    """
    arrays = []
    doc = {"format": FORMAT, "version": VERSION,
           "object": _Encoder(arrays).encode(obj, "obj"),
           "arrays": [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in arrays]}
    text = json.dumps(doc, allow_nan=False)

    def write(fileobj):
        with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_STORED) as z:
            z.writestr(_JSON, text)
            for i, a in enumerate(arrays):
                with z.open(f"arrays/{i}.npy", "w", force_zip64=a.nbytes >= _ZIP64_FROM) as m:
                    np.lib.format.write_array(m, a, allow_pickle=False)

    if isinstance(f, (str, os.PathLike)):
        atomic_write(f, write)
    elif hasattr(f, "write"):
        if isinstance(f, io.TextIOBase):
            raise TypeError("save: f is a text-mode file; open it in binary mode ('wb')")
        write(f)
    else:
        raise TypeError(f"save: f must be a path (str or os.PathLike) or a binary file "
                        f"object, got {type(f).__name__}")


class _Encoder:
    """obj -> JSON-able structure; every JSON object in it is a tagged node."""

    def __init__(self, arrays):
        self.arrays = arrays
        self.seen = {}      # id(Tensor or ndarray) -> its array index: sharing survives
        self.active = set()  # ids of the containers being encoded: cycles are errors

    def encode(self, x, where):
        if isinstance(x, np.generic):
            return {"scalar": self._array(None, np.asarray(x), where)}
        # exact types: a subclass (an IntEnum, np.float64...) would come back as its base
        if x is None or type(x) in (bool, int, str):
            return x
        if type(x) is float:
            return x if math.isfinite(x) else {"float": repr(x)}
        if isinstance(x, Tensor):
            return {"tensor": self._array(x, x.data, where), "requires_grad": x.requires_grad}
        if isinstance(x, np.ndarray):
            return {"ndarray": self._array(x, x, where)}
        if type(x) in (dict, OrderedDict):
            with self._inside(x, where):
                items = [[self.key(k, where), self.encode(v, f"{where}[{k!r}]")]
                         for k, v in x.items()]
            return {"dict": items, "ordered": type(x) is OrderedDict}
        if type(x) in (list, tuple):
            with self._inside(x, where):
                items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(x)]
            return items if type(x) is list else {"tuple": items}
        raise TypeError(f"save: cannot save {where}, a {type(x).__module__}."
                        f"{type(x).__qualname__}; rnnkit.save keeps Tensors, NumPy arrays "
                        f"and scalars, Python numbers, bools, strings, None, and dicts, "
                        f"OrderedDicts, lists and tuples of them")

    def key(self, k, where):
        if k is None or type(k) in (bool, str, int, float) or isinstance(k, np.generic):
            return self.encode(k, where)
        if type(k) is tuple:
            return {"tuple": [self.key(v, where) for v in k]}
        raise TypeError(f"save: {where} has a key of type {type(k).__name__} ({k!r}); keys "
                        f"may be str, int, float, bool, None or tuples of those")

    def _array(self, owner, arr, where):
        if owner is not None and id(owner) in self.seen:
            return self.seen[id(owner)]
        if arr.dtype.hasobject:
            raise TypeError(f"save: {where} holds Python objects (dtype {arr.dtype}), which "
                            f"only pickle could store; rnnkit.save never pickles")
        self.arrays.append(arr)
        if owner is not None:
            self.seen[id(owner)] = len(self.arrays) - 1
        return len(self.arrays) - 1

    @contextlib.contextmanager
    def _inside(self, container, where):
        if id(container) in self.active:
            raise ValueError(f"save: {where} contains itself (a reference cycle); "
                             f"rnnkit.save keeps trees of containers only")
        self.active.add(id(container))
        try:
            yield
        finally:
            self.active.discard(id(container))


# -- load ---------------------------------------------------------------------------------
def load(f, map_location=None, *, weights_only=None, mmap=None):
    """The object saved by :func:`save` in ``f`` (a path or a binary file object).

    map_location: None, "cpu" (rnnkit computes on the CPU only), a dict mapping saved
        locations to new ones (every tensor was saved on "cpu"; it must stay there), or a
        callable ``fn(tensor, "cpu")`` whose result, when not None, replaces the tensor.
    weights_only: accepted for torch's signature (None, True or False); rnnkit's files
        never hold code, so every load is already weights-only.
    mmap: only None or False; rnnkit reads the arrays into memory.

    A file that is damaged, truncated, a PyTorch pickle, or another format raises a
    ValueError naming the file and what it is.
    """
    remap = _map_location(map_location)
    if weights_only not in (None, True, False):
        raise TypeError(f"load: weights_only must be None, True or False, got "
                        f"{weights_only!r}")
    if mmap not in (None, False):
        raise ValueError(f"load: mmap={mmap!r} is not supported; rnnkit reads arrays into "
                         f"memory")
    if isinstance(f, (str, os.PathLike)):
        name = repr(os.fspath(f))
        with open(f, "rb") as fileobj:
            return _load_from(fileobj, name, remap)
    if hasattr(f, "read"):
        if isinstance(f, io.TextIOBase):
            raise TypeError("load: f is a text-mode file; open it in binary mode ('rb')")
        name = repr(getattr(f, "name", None) or f"<{type(f).__name__}>")
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())
        return _load_from(f, name, remap)
    raise TypeError(f"load: f must be a path (str or os.PathLike) or a binary file object, "
                    f"got {type(f).__name__}")


def _map_location(loc):
    """map_location as a function of a loaded Tensor, after checking it names the CPU."""
    def cpu_or_error(where):
        text = str(where)
        if text != "cpu" and not text.startswith("cpu:"):
            raise ValueError(f"load: map_location sends tensors to {where!r}, but rnnkit "
                             f"runs on the CPU only; use map_location='cpu' or None")

    if loc is None:
        return None
    if isinstance(loc, dict):
        cpu_or_error(loc.get("cpu", "cpu"))
        return None
    if callable(loc):
        def remap(t):
            out = loc(t, "cpu")
            if out is not None and not isinstance(out, Tensor):
                raise TypeError(f"load: map_location returned a {type(out).__name__}; "
                                f"expected an rnnkit Tensor or None")
            return t if out is None else out
        return remap
    cpu_or_error(loc)
    return None


def _load_from(fileobj, name, remap):
    head = fileobj.read(8)
    fileobj.seek(-len(head), io.SEEK_CUR)
    if not head:
        raise ValueError(f"load: {name} is empty")
    if not head.startswith(b"PK"):
        raise ValueError(f"load: {name} is {_what_is(head)}, not an rnnkit file")
    try:
        with zipfile.ZipFile(fileobj) as z:
            names = z.namelist()
            if _JSON not in names:
                raise ValueError(f"load: {name} is {_what_zip_is(names)}, not an rnnkit file")
            doc = _read_doc(z, name)
            arrays = [_read_array(z, i, spec, name) for i, spec in enumerate(doc["arrays"])]
    except zipfile.BadZipFile as e:
        raise ValueError(f"load: {name} is truncated or corrupt (a damaged zip archive: "
                         f"{e})") from None
    try:
        return _Decoder(arrays, remap).decode(doc["object"])
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise ValueError(f"load: {name} has a corrupt {_JSON} ({type(e).__name__}: "
                         f"{e})") from None


_LATER = ("reading PyTorch's own files comes in a later rnnkit issue; for now load it with "
          "torch and convert its tensors to NumPy arrays")


def _what_is(head):
    if head.startswith(b"\x80"):
        return ("a Python pickle (PyTorch's legacy torch.save format, or pickle.dump); "
                "rnnkit never unpickles, and " + _LATER)
    if head.startswith(b"\x93NUMPY"):
        return "a NumPy .npy file (read it with numpy.load)"
    if head.startswith(b"\x89HDF"):
        return "an HDF5 file"
    return "not a zip archive (unrecognised content; truncated or corrupt?)"


def _what_zip_is(names):
    if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        return "a PyTorch file (torch.save's zip format, which holds a pickle); " + _LATER
    if {"model.json", "weights.npz"} <= set(names):
        return "an rnnkit Keras model (load it with rnnkit.keras.models.load_model)"
    if "config.json" in names and any(n.endswith(".weights.h5") for n in names):
        return "a Keras .keras model"
    if names and all(n.endswith(".npy") for n in names):
        return "a NumPy .npz archive (read it with numpy.load)"
    return f"a zip archive of another kind (members {names[:5]})"


def _read_doc(z, name):
    try:
        doc = json.loads(z.read(_JSON))
    except zipfile.BadZipFile:
        raise
    except Exception as e:
        raise ValueError(f"load: {name} has a corrupt {_JSON} ({type(e).__name__}: "
                         f"{e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"load: {name} is a zip with an {_JSON} that is not rnnkit.save's")
    if doc.get("version") != VERSION:
        raise ValueError(f"load: {name} has format version {doc.get('version')!r}; this "
                         f"rnnkit reads version {VERSION}")
    if not isinstance(doc.get("arrays"), list) or "object" not in doc:
        raise ValueError(f"load: {name} has a corrupt {_JSON} (no 'object' or 'arrays')")
    return doc


def _read_array(z, i, spec, name):
    member = f"arrays/{i}.npy"
    try:
        with z.open(member) as m:
            arr = np.lib.format.read_array(m, allow_pickle=False)
            if m.read(1):
                raise ValueError("trailing bytes after the array")
    except KeyError:
        raise ValueError(f"load: {name} lacks {member} (truncated or corrupt)") from None
    except zipfile.BadZipFile:
        raise
    except Exception as e:
        raise ValueError(f"load: {name} has a corrupt {member} ({type(e).__name__}: "
                         f"{e})") from None
    if not isinstance(spec, dict) or [arr.dtype.str, list(arr.shape)] != [spec.get("dtype"),
                                                                          spec.get("shape")]:
        raise ValueError(f"load: {name}: {member} holds {arr.dtype.str} {arr.shape}, but "
                         f"{_JSON} describes {spec!r} (corrupt file)")
    return arr


class _Decoder:
    """The inverse of _Encoder; anything unexpected is a corrupt file."""

    def __init__(self, arrays, remap):
        self.arrays, self.remap, self.made = arrays, remap, {}

    def decode(self, x):
        if x is None or isinstance(x, (bool, str, int, float)):
            return x
        if isinstance(x, list):
            return [self.decode(v) for v in x]
        if not isinstance(x, dict) or len(x) not in (1, 2):
            raise ValueError(f"unexpected node {x!r:.80}")
        if "dict" in x:
            items = [(self._key(k), self.decode(v)) for k, v in x["dict"]]
            return OrderedDict(items) if x.get("ordered") else dict(items)
        if "tuple" in x:
            return tuple(self.decode(v) for v in x["tuple"])
        if "float" in x:
            return float({"nan": "nan", "inf": "inf", "-inf": "-inf"}[x["float"]])
        if "ndarray" in x:
            return self._shared("ndarray", x["ndarray"], lambda a: a)
        if "scalar" in x:
            return self._array(x["scalar"])[()]
        if "tensor" in x:
            rg = x.get("requires_grad")
            if not isinstance(rg, bool):
                raise ValueError(f"requires_grad must be a bool, got {rg!r}")
            t = self._shared("tensor", x["tensor"], lambda a: Tensor(a, requires_grad=rg))
            return t if self.remap is None else self.remap(t)
        raise ValueError(f"unexpected node {x!r:.80}")

    def _key(self, k):
        key = self.decode(k)
        if isinstance(key, (list, dict, Tensor, np.ndarray)):
            raise ValueError(f"unhashable key {k!r:.80}")
        return key

    def _array(self, i):
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self.arrays):
            raise ValueError(f"array reference {i!r} is out of range")
        return self.arrays[i]

    def _shared(self, kind, i, make):
        if (kind, i) not in self.made:
            self.made[kind, i] = make(self._array(i))
        return self.made[kind, i]
