"""rnnkit.datasets.sunspots: statsmodels' yearly sunspot numbers, read without statsmodels."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from rnnkit import datasets


def test_sunspots_equal_statsmodels_own_loader():
    sm_sunspots = pytest.importorskip("statsmodels.datasets.sunspots")
    frame = sm_sunspots.load_pandas().data
    years, values = datasets.sunspots()
    assert years.dtype == np.int64 and values.dtype == np.float64
    assert years.shape == values.shape == (len(frame),)
    np.testing.assert_array_equal(years, frame["YEAR"].to_numpy().astype(np.int64))
    np.testing.assert_array_equal(values, frame["SUNACTIVITY"].to_numpy())


def test_sunspots_are_yearly_from_1700_in_order():
    pytest.importorskip("statsmodels")
    years, _ = datasets.sunspots()
    assert years[0] == 1700 and np.all(np.diff(years) == 1)


def test_sunspots_do_not_import_statsmodels():
    pytest.importorskip("statsmodels")
    # A fresh interpreter: this one may have imported statsmodels in another test.
    code = ("import sys; from rnnkit.datasets import sunspots; sunspots(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'statsmodels'))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(datasets.__file__)))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": root}, check=True)
    assert done.stdout.strip() == "[]"


def test_sunspots_without_statsmodels_name_the_package_and_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "statsmodels" else real(name, *a))
    with pytest.raises(datasets.DatasetNotFoundError,
                       match=r"statsmodels.*not installed.*pip install \"rnnkit\[series\]\""):
        datasets.sunspots()
