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


@pytest.fixture
def one_thread():
    """Run the test with one torch thread (restored afterwards).

    Bitwise comparisons of batched and single runs need it: with several threads the BLAS
    may split a batched product's sums differently from a single product's.
    """
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)
