"""The model directory every app writes and reads: one format, versioned, atomic.

    DIR/rnnkit-model.json   {"format": "rnnkit.app", "version": 1, "app": "textgen",
                             "rnnkit": "0.1.0", "config": {...}, "metadata": {...}}
    DIR/<name>.rnnkit       arrays and state dicts, written by ``rnnkit.save``
    DIR/<name>.json         other JSON documents (a vocabulary, a resume point...)
    DIR/metrics.csv         the metrics log (``common.Reporter``)

Every file is written atomically (``rnnkit.serialization.atomic_write``), and the
manifest ``rnnkit-model.json`` last, so a reader sees the previous complete state or the
new one. Reading checks the manifest first: a directory that is not a model directory,
one made by another app, or one written in a newer format version gets an
:class:`AppError` that says which.
"""
from __future__ import annotations

import json
import os

import rnnkit
from rnnkit.apps.common import AppError
from rnnkit.serialization import atomic_write

FORMAT, VERSION = "rnnkit.app", 1
MANIFEST = "rnnkit-model.json"


def _write_json(path, obj):
    text = json.dumps(obj, indent=1, allow_nan=False, ensure_ascii=False) + "\n"
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


class ModelDir:
    """A model directory at ``path`` (see the module docstring)."""

    def __init__(self, path):
        self.path = os.fspath(path)

    def file(self, name):
        return os.path.join(self.path, name)

    # -- writing ---------------------------------------------------------------------------
    def create(self):
        """Make the directory (and parents); an existing file of that name is an error."""
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise AppError(f"{self.path!r} exists and is not a directory")
        os.makedirs(self.path, exist_ok=True)
        return self

    def save(self, name, obj):
        """``rnnkit.save(obj)`` into ``<name>.rnnkit``, atomically."""
        rnnkit.save(obj, self.file(f"{name}.rnnkit"))

    def save_json(self, name, obj):
        """``obj`` (JSON-serialisable) into ``<name>.json``, atomically."""
        _write_json(self.file(f"{name}.json"), obj)

    def write_manifest(self, app, config, metadata=None):
        """Write the manifest last: it names the app, the format version, the model's
        ``config`` (what rebuilds it) and free ``metadata`` (metrics, data, times)."""
        _write_json(self.file(MANIFEST), {
            "format": FORMAT, "version": VERSION, "app": app, "rnnkit": rnnkit.__version__,
            "config": config, "metadata": metadata or {}})

    # -- reading ---------------------------------------------------------------------------
    def manifest(self, app):
        """The manifest of a directory made by ``app``, or an AppError saying why not."""
        path = self.file(MANIFEST)
        if not os.path.isdir(self.path):
            raise AppError(f"{self.path!r} is not a directory (expected a model directory "
                           f"made by 'rnnkit {app} train')")
        if not os.path.isfile(path):
            raise AppError(f"{self.path!r} is not an rnnkit model directory: it has no "
                           f"{MANIFEST} (made by 'rnnkit {app} train')")
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise AppError(f"{path!r} is damaged: {e}") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise AppError(f"{path!r} is not an rnnkit model manifest")
        version = doc.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise AppError(f"{self.path!r} was written in model-directory format version "
                           f"{version}, newer than this rnnkit ({rnnkit.__version__}) reads "
                           f"(up to {VERSION}); upgrade rnnkit")
        if doc.get("app") != app:
            raise AppError(f"{self.path!r} holds a model of 'rnnkit {doc.get('app')}', not "
                           f"of 'rnnkit {app}'")
        return doc

    def load(self, name):
        """The object in ``<name>.rnnkit``; a missing or damaged file is an AppError."""
        path = self.file(f"{name}.rnnkit")
        if not os.path.isfile(path):
            raise AppError(f"{self.path!r} has no {name}.rnnkit (an incomplete model "
                           f"directory?)")
        try:
            return rnnkit.load(path)
        except ValueError as e:
            raise AppError(str(e)) from None

    def load_json(self, name):
        """The document in ``<name>.json``; a missing or damaged file is an AppError."""
        path = self.file(f"{name}.json")
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            raise AppError(f"{self.path!r} has no {name}.json (an incomplete model "
                           f"directory?)") from None
        except (OSError, ValueError) as e:
            raise AppError(f"{path!r} is damaged: {e}") from None

    def has(self, filename):
        return os.path.isfile(self.file(filename))
