"""A real multi-class text corpus in the aclImdb layout, cut from files that every CPython
installation carries (no formula writes any of its words):

- ``c``: C code, from the C API headers (``sysconfig.get_paths()["include"]``,
  ``**/*.h``) without their comments;
- ``python``: Python code, from the standard library's top-level modules
  (``stdlib/*.py``) without their comment lines and docstrings;
- ``english``: English prose, the unindented lines of the help topics
  (``pydoc_data.topics``, what ``help("if")`` prints; indented lines are mostly code
  examples and grammar).

Comments and docstrings are English prose, and the help topics quote much code, so
they are left out: each class holds what its name says. What remains of each file (each
topic) is cut into passages of consecutive non-blank lines of at least ``chars``
characters, a few lines each. Files, in sorted order, go to ``test/`` when their index
is 3 modulo 4, else to ``train/``, so no file lends passages to both parts; from each
part of each class up to ``per_class`` passages are taken, evenly spaced. Everything
is deterministic.
"""
from __future__ import annotations

import ast
import glob
import os
import re
import sysconfig

import numpy as np

CLASSES = ("c", "english", "python")


class MissingSource(Exception):
    """This machine lacks one of the sources (the C headers come with python3-dev)."""


def _documents():
    """``{class: [(name, text), ...]}``, each list in sorted order."""
    paths = sysconfig.get_paths()
    headers = sorted(glob.glob(os.path.join(paths["include"], "**", "*.h"), recursive=True))
    modules = sorted(glob.glob(os.path.join(paths["stdlib"], "*.py")))
    try:
        from pydoc_data.topics import topics
    except ImportError:
        topics = {}
    if not headers:
        raise MissingSource(f"no C headers under {paths['include']!r} (install python3-dev)")
    if not modules or not topics:
        raise MissingSource("the standard library's modules or pydoc_data are missing")

    def read(files):
        out = []
        for name in files:
            with open(name, encoding="utf-8", errors="replace") as f:
                out.append((name, f.read()))
        return out

    return {"c": [(n, c_code(t)) for n, t in read(headers)],
            "python": [(n, python_code(t)) for n, t in read(modules)],
            "english": [(k, english_prose(topics[k])) for k in sorted(topics)]}


_C_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def c_code(text):
    """C source without its comments."""
    return _C_COMMENT.sub("", text)


def python_code(text):
    """Python source without its comment lines and docstrings (the first string of a
    module, class or function body)."""
    lines = text.splitlines()
    drop = {i for i, line in enumerate(lines) if line.lstrip().startswith("#")}
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return ""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                             ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                drop.update(range(first.lineno - 1, first.end_lineno))
    return "\n".join(line for i, line in enumerate(lines) if i not in drop)


def english_prose(text):
    """The unindented lines of a help topic: its prose paragraphs."""
    return "\n".join(line for line in text.splitlines() if line[:1] not in (" ", "\t"))


def passages(text, chars):
    """The non-blank lines of ``text`` in order, cut into passages of at least ``chars``
    characters (a passage ends as soon as it is long enough; a short tail is dropped)."""
    out, lines, size = [], [], 0
    for line in text.splitlines():
        if line.strip():
            lines.append(line.rstrip())
            size += len(lines[-1]) + 1
            if size >= chars:
                out.append("\n".join(lines))
                lines, size = [], 0
    return out


def build(root, per_class=(200, 100), chars=240):
    """Write the corpus under ``root`` (``train/<class>/<i>.txt``, ``test/<class>/<i>.txt``)
    with up to ``per_class`` = (training, test) passages per class (fewer where this
    CPython has fewer; less than half is a MissingSource); returns ``root``."""
    documents = _documents()
    for cls in CLASSES:
        parts = {"train": [], "test": []}
        for i, (_, text) in enumerate(documents[cls]):
            parts["test" if i % 4 == 3 else "train"] += passages(text, chars)
        for part, wanted in zip(("train", "test"), per_class):
            found = parts[part]
            if len(found) < wanted / 2:
                raise MissingSource(f"only {len(found)} {cls} passages for {part}/, "
                                    f"{wanted} wanted")
            folder = os.path.join(root, part, cls)
            os.makedirs(folder, exist_ok=True)
            take = np.linspace(0, len(found) - 1, min(wanted, len(found))).round()
            for k, j in enumerate(take.astype(int)):
                with open(os.path.join(folder, f"{k}.txt"), "w", encoding="utf-8") as f:
                    f.write(found[j])
    return root
