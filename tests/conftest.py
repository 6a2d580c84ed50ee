"""Shared test fixtures."""

import os

import pytest


@pytest.fixture(autouse=True)
def restore_environment():
    """Undo changes a test makes to ``os.environ``.

    Starting a Dask ``LocalCluster`` sets ``OMP_NUM_THREADS=1`` (and friends) in this
    process's environment for good; the chapters' kernels, which nbval starts later in the
    same run, would inherit it and train single-threaded.
    """
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
