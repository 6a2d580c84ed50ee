"""Kernel ridge regression against closed forms; dual against primal."""

import math

import numpy as np
import pytest
import torch

import hight_lite as hl


def data(n=40, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.sin(x[:, 0]) + x[:, 1] * x[:, 2]
    return x, y


def test_dual_matches_the_closed_form_written_by_hand():
    x, y = data()
    xt, _ = data(7, seed=1)
    xn, yn, xtn = x.numpy(), y.numpy(), xt.numpy()
    k = (xn @ xn.T) ** 2 + xn @ xn.T + 1
    alpha = np.linalg.solve(k + 0.3 * len(yn) * np.eye(len(yn)), yn)
    expected = ((xtn @ xn.T) ** 2 + xtn @ xn.T + 1) @ alpha
    model = hl.fit_kernel_ridge(x, y, hl.KernelConfig(ridge=0.3, solver="dual"))
    np.testing.assert_allclose(model.predict(xt).numpy(), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("degree", [1, 2])
@pytest.mark.parametrize("ridge", [1.0, 1e-3])
def test_dual_and_primal_give_the_same_predictions(degree, ridge):
    x, y = data(n=60, d=6)
    xt, _ = data(n=20, d=6, seed=3)
    cfg = dict(degree=degree, ridge=ridge, scale=2.0)
    dual = hl.fit_kernel_ridge(x, y, hl.KernelConfig(solver="dual", **cfg))
    primal = hl.fit_kernel_ridge(x, y, hl.KernelConfig(solver="primal", **cfg))
    assert dual.solver == "dual" and primal.solver == "primal"
    torch.testing.assert_close(dual.predict(xt), primal.predict(xt), rtol=1e-7, atol=1e-8)


def test_explicit_features_reproduce_the_kernel():
    x, _ = data(n=9, d=4)
    cfg = hl.KernelConfig(degree=2, scale=3.0)
    phi = cfg.features(x)
    assert phi.shape == (9, cfg.feature_dimension(4)) == (9, 1 + 4 + 10)
    torch.testing.assert_close(phi @ phi.T, cfg.kernel(x, x))


def test_auto_picks_the_smaller_system():
    cfg = hl.KernelConfig()
    small, _ = data(n=10, d=4)
    big, _ = data(n=40, d=4)
    assert hl.fit_kernel_ridge(small, small[:, 0], cfg).solver == "dual"  # 10 < 15 features
    assert hl.fit_kernel_ridge(big, big[:, 0], cfg).solver == "primal"
    assert hl.fit_kernel_ridge(big, big[:, 0], hl.KernelConfig(kind="exponential", scale=4.0)).solver == "dual"


def test_prediction_batches_do_not_change_the_result():
    x, y = data(n=50)
    xt, _ = data(n=33, seed=5)
    a = hl.fit_kernel_ridge(x, y, hl.KernelConfig(solver="dual", batch_size=4)).predict(xt)
    b = hl.fit_kernel_ridge(x, y, hl.KernelConfig(solver="dual", batch_size=1000)).predict(xt)
    torch.testing.assert_close(a, b)


def test_exponential_kernel_holds_every_degree():
    x, _ = data(n=6, d=3)
    cfg = hl.KernelConfig(kind="exponential", scale=3.0)
    t = x @ x.T / 3.0
    series = sum(t**j / float(math.factorial(j)) for j in range(30))
    torch.testing.assert_close(cfg.kernel(x, x), series)


def test_small_ridge_interpolates():
    x, y = data(n=12, d=5)  # 12 < 21 features: can interpolate
    model = hl.fit_kernel_ridge(x, y, hl.KernelConfig(ridge=1e-10, solver="dual"))
    torch.testing.assert_close(model.predict(x), y, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(ridge=-1.0), "ridge must be a finite number >= 0"),
        (dict(degree=0), "degree must be an integer >= 1"),
        (dict(kind="gaussian"), "kind must be"),
        (dict(scale=0.0), "scale must be > 0"),
        (dict(solver="primal", degree=3), "needs a polynomial kernel of degree <= 2"),
        (dict(solver="qr"), "solver must be"),
        (dict(batch_size=0), "batch_size must be an integer >= 1"),
    ],
)
def test_bad_kernel_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hl.KernelConfig(**kwargs)


def test_shape_mismatch_is_a_clear_error():
    x, y = data()
    with pytest.raises(ValueError, match=r"x must be \(n, d\) and y \(n,\)"):
        hl.fit_kernel_ridge(x, y[:-1])
