"""Theory helpers against independent computations (scipy quadrature, Monte Carlo, closed forms)."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate

import hight_lite as hl


def gaussian_density_integral(f, variance):
    """E[f(sigma g)] by adaptive quadrature, independent of the Gauss–Hermite rule."""
    value, _ = integrate.quad(
        lambda z: f(math.sqrt(variance) * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -np.inf, np.inf,
        epsabs=1e-12,
    )
    return value


def test_random_level_of_the_main_example_against_scipy():
    expected = gaussian_density_integral(lambda h: math.tanh(3 * h) ** 2, 2 / 3)
    assert hl.random_level(hl.sight(64)) == pytest.approx(expected, abs=1e-6)
    assert 0.68 < expected < 0.70  # DIGEST: E[y^2] ≈ 0.69 for the main example


def test_random_level_of_might_links():
    single = hl.random_level(hl.sight(64))
    # committee of independent branches: the cross terms vanish, E[y^2] = E[tanh(3h)^2]
    assert hl.random_level(hl.might(64, 2)) == pytest.approx(single, abs=1e-4)
    assert hl.random_level(hl.might(64, 3, link=hl.Parity())) == pytest.approx(1.0, abs=1e-9)


def test_deep_variances_against_monte_carlo_on_gaussian_inputs():
    cfg = hl.deep_target(64, (2 / 3, 1 / 3))
    v = hl.gaussian_limit_variances(cfg)
    assert v[:2] == pytest.approx((1.0, 2 / 3))
    g = torch.randn(2_000_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    estimate = hl.monte_carlo_mean(cfg.polynomial(math.sqrt(v[1]) * g) ** 2)
    assert abs(estimate.mean - v[2]) < 4 * estimate.stderr


def test_monte_carlo_random_level_is_consistent_with_its_error_bar():
    cfg = hl.sight(64)
    a = hl.random_level_monte_carlo(cfg, 40_000, torch.Generator().manual_seed(1))
    b = hl.random_level_monte_carlo(cfg, 40_000, torch.Generator().manual_seed(2))
    assert abs(a.mean - b.mean) < 5 * math.hypot(a.stderr, b.stderr) + 0.02  # teachers differ too
    assert a.n == 40_000 and a.stderr > 0


def test_thresholds_of_the_main_example():
    table = hl.sample_complexity_thresholds(hl.sight(64))
    three = table[table.learner == "three-layer"].kappa
    assert three.max() == pytest.approx(1.5)
    assert table[table.learner == "two-layer"].kappa.min() == pytest.approx(1.5)
    eps_third = hl.sample_complexity_thresholds(hl.sight(64, epsilon=1 / 3))
    # k * eps = 1 < 1 + eps: learning W* is the bottleneck
    assert eps_third[eps_third.learner == "three-layer"].kappa.max() == pytest.approx(4 / 3)


def test_thresholds_need_a_shallow_target():
    with pytest.raises(ValueError, match="depth L = 2"):
        hl.sample_complexity_thresholds(hl.deep_target(64, (2 / 3, 1 / 3)))


def test_monte_carlo_mean_needs_two_samples():
    with pytest.raises(ValueError, match="at least 2 samples"):
        hl.monte_carlo_mean(torch.ones(1))
