"""Theory helpers against independent computations (scipy quadrature, Monte Carlo, closed forms)."""

import math

import numpy as np
import pandas as pd
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



def test_monte_carlo_mean_needs_two_samples():
    with pytest.raises(ValueError, match="at least 2 samples"):
        hl.monte_carlo_mean(torch.ones(1))


def test_identity_link_plateaus_are_the_hermite_tails_of_p():
    """y = h*: the best degree-q polynomial in z misses exactly the orthonormal weight of P above q."""
    cfg = hl.sight(64, link=hl.Identity())
    assert hl.best_polynomial_error_limit(cfg, 1) == pytest.approx(1 / 2 + 1 / 6, abs=1e-8)
    assert hl.best_polynomial_error_limit(cfg, 2) == pytest.approx(1 / 6, abs=1e-8)
    assert hl.best_polynomial_error_limit(cfg, 3) == pytest.approx(0.0, abs=1e-8)


def test_degree_two_plateau_against_steins_closed_form():
    # E[g^2] - (E[g'(h)] c_2)^2 with g = tanh(3 .), g' = 3 (1 - tanh^2), c_2^2 = 1/2
    slope = gaussian_density_integral(lambda h: 3 * (1 - math.tanh(3 * h) ** 2), 2 / 3)
    energy = gaussian_density_integral(lambda h: math.tanh(3 * h) ** 2, 2 / 3)
    assert hl.best_polynomial_error_limit(hl.sight(64), 2) == pytest.approx(energy - slope**2 / 2, abs=1e-5)
    assert hl.best_polynomial_error_limit(hl.sight(64), 2) == pytest.approx(0.27, abs=0.01)  # DIGEST: ≈ 0.27


def test_linear_in_h_plateau_two_ways():
    cfg = hl.sight(64)
    assert hl.best_polynomial_error_limit(cfg, 1, space="h") == pytest.approx(hl.best_linear_in_h_error_limit(cfg), abs=1e-5)
    assert hl.best_polynomial_error_limit(cfg, 3) == pytest.approx(hl.best_linear_in_h_error_limit(cfg), abs=1e-5)
    assert hl.best_linear_in_h_error_limit(cfg) == pytest.approx(0.13, abs=0.01)  # DIGEST: ≈ 0.13


def test_parity_is_invisible_below_degree_six():
    cfg = hl.might(64, 3, link=hl.Parity())
    for q in range(6):
        assert hl.best_polynomial_error_limit(cfg, q) == pytest.approx(1.0, abs=1e-9)
    assert hl.best_polynomial_error_limit(cfg, 6) < 0.95


def test_monte_carlo_plateau_approaches_the_limit():
    limit = hl.best_polynomial_error_limit(hl.sight(64), 2)
    gaps = [limit - hl.best_approximation_error_monte_carlo(hl.sight(d), 2, 40_000, torch.Generator().manual_seed(d)).mean
            for d in (64, 256)]
    assert gaps[0] > gaps[1] > 0


def test_phase_diagram_orders_the_learners():
    kappas = np.arange(0.25, 4.01, 0.25)
    table = hl.phase_diagram(hl.sight(64), kappas).pivot(index="kappa", columns="learner", values="error")
    assert (table["three-layer"] <= table["two-layer"] + 1e-12).all()
    assert (table["two-layer"] <= table["kernel"] + 1e-12).all()
    for learner in table:
        assert (np.diff(table[learner].to_numpy()) <= 1e-12).all()
    assert table.loc[1.5, "three-layer"] == 0 and table.loc[1.25, "three-layer"] == pytest.approx(table.loc[1.25, "kernel"])
    assert table.loc[2.0, "kernel"] == pytest.approx(hl.best_polynomial_error_limit(hl.sight(64), 2))


def test_deep_thresholds():
    table = hl.sample_complexity_thresholds(hl.deep_target(64, (2 / 3, 1 / 3)))
    kappas = table.set_index("what is learned").kappa
    assert kappas["level 1: W*"] == pytest.approx(5 / 3)
    assert kappas["level 2: h_2 from h_1"] == pytest.approx(3 * 2 / 3 + 1 / 3)
    assert kappas["top: h_3 from h_2"] == pytest.approx(1.0)
    assert kappas["f* (all levels)"] == pytest.approx(7 / 3)


def test_bad_plateau_arguments():
    with pytest.raises(ValueError, match="degree must be an integer >= 0"):
        hl.best_polynomial_error_limit(hl.sight(64), -1)
    with pytest.raises(ValueError, match="space must be"):
        hl.best_polynomial_error_limit(hl.sight(64), 2, space="w")
    with pytest.raises(ValueError, match="depth L = 2"):
        hl.phase_diagram(hl.deep_target(64, (2 / 3, 1 / 3)), [1.0])


def test_top_level_first_order_correlation_against_a_direct_estimate():
    cfg = hl.sight(64)
    table = hl.hermite_correlations(cfg, 2, 1, 60_000, torch.Generator().manual_seed(3))
    target = cfg.build(torch.Generator().manual_seed(4), dtype=torch.float64)
    s = target.sample(200_000, torch.Generator().manual_seed(5))
    direct = float((s.y * s.h[:, 0]).mean()) / math.sqrt(2 / 3)
    row = table.iloc[0]
    assert row.order == 1 and row.terms == 1
    assert row.norm == pytest.approx(abs(direct), abs=5 * row.stderr + 0.01)


def test_cie_of_the_main_example_and_of_the_parity():
    gen = torch.Generator().manual_seed(0)
    main = hl.compositional_information_exponent(hl.sight(64), 30_000, gen, max_order=3)
    assert main.cie.tolist() == [2, 1]  # DIGEST §6: CIE = 2 at level 1, 1 at the top
    parity = hl.compositional_information_exponent(hl.might(64, 3, link=hl.Parity()), 30_000, gen, max_order=3)
    assert pd.isna(parity.cie.iloc[0])  # nothing up to order 3 at the first level: hard
    assert parity.cie.iloc[1] == 3  # only the product of the three top features correlates


def test_bad_cie_arguments():
    with pytest.raises(ValueError, match=r"level must be an integer in \[1, 2\]"):
        hl.hermite_correlations(hl.sight(64), 3, 2, 1000, torch.Generator())
    with pytest.raises(ValueError, match="max_order must be an integer >= 1"):
        hl.hermite_correlations(hl.sight(64), 1, 0, 1000, torch.Generator())


def test_kappa_threshold_reads_the_table():
    main = hl.sight(64)
    assert hl.kappa_threshold(main, "three-layer") == pytest.approx(1.5)
    assert hl.kappa_threshold(main, "two-layer", "z^2k") == pytest.approx(3.0)
    thin = hl.sight(64, epsilon=0.4)  # k ε₁ = 1.2 < 1 + ε₁ = 1.4: the first layer is the bottleneck
    assert hl.kappa_threshold(thin, "three-layer", "h*") == pytest.approx(1.2)
    assert hl.kappa_threshold(thin, "three-layer") == pytest.approx(1.4)
    deep = hl.deep_target(64, (2 / 3, 1 / 3))
    assert hl.kappa_threshold(deep, "deep network", "level 2") == pytest.approx(3 * 2 / 3 + 1 / 3)
    with pytest.raises(ValueError, match="learner, piece"):
        hl.kappa_threshold(main, "deep network", "level 2")


def test_random_second_layer_overlap_matches_independent_directions():
    gen = torch.Generator().manual_seed(0)
    n_probe = 400
    pre = torch.randn(n_probe, 200, generator=gen, dtype=torch.float64)
    h = torch.randn(n_probe, 1, generator=gen, dtype=torch.float64)
    measured = float(hl.second_layer_overlap(pre, h)[0])
    assert measured == pytest.approx(hl.random_second_layer_overlap(n_probe), rel=0.15)
    with pytest.raises(ValueError, match="n_probe"):
        hl.random_second_layer_overlap(0)
