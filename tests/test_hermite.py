"""Hermite toolkit against independent computations (numpy's hermite_e, closed forms, Monte Carlo)."""

import math

import numpy as np
import pytest
import torch
from numpy.polynomial import hermite_e

import hight_lite as hl

Z = np.linspace(-4, 4, 41)


@pytest.mark.parametrize("k", range(0, 9))
@pytest.mark.parametrize("convention", hl.CONVENTIONS)
def test_hermite_matches_numpy_hermite_e(k, convention):
    unit = np.zeros(k + 1)
    unit[k] = 1.0
    expected = hermite_e.hermeval(Z, unit) / hl.hermite_scale(k, convention)
    np.testing.assert_allclose(hl.hermite(k, Z, convention), expected, rtol=1e-12, atol=1e-9)


def test_numerics_convention_is_the_authors():
    z = torch.linspace(-3, 3, 13, dtype=torch.float64)
    torch.testing.assert_close(hl.hermite(2, z, "numerics"), (z**2 - 1) / 2)
    torch.testing.assert_close(hl.hermite(3, z, "numerics"), (z**3 - 3 * z) / 6)


@pytest.mark.parametrize("convention", hl.CONVENTIONS)
def test_orthogonality_by_quadrature(convention):
    nodes, weights = hl.gauss_hermite(40)
    basis = hl.hermite_all(8, nodes, convention)
    gram = np.array([[np.dot(weights, a * b) for b in basis] for a in basis])
    expected = np.diag([hl.hermite_norm2(k, convention) for k in range(9)])
    np.testing.assert_allclose(gram, expected, atol=1e-10 * max(1.0, expected.max()))


def test_gaussian_expectation_closed_forms():
    assert hl.gaussian_expectation(lambda z: z**4) == pytest.approx(3.0, rel=1e-12)
    assert hl.gaussian_expectation(lambda z: z**2, variance=2.5) == pytest.approx(2.5, rel=1e-12)
    # E[exp(t z)] = exp(t^2/2)
    assert hl.gaussian_expectation(lambda z: np.exp(0.7 * z)) == pytest.approx(math.exp(0.245), rel=1e-12)
    # E[|z|] = sqrt(2/pi): non-smooth, converges slowly
    assert hl.gaussian_expectation(np.abs, order=360) == pytest.approx(math.sqrt(2 / math.pi), rel=3e-3)


def test_gaussian_expectation_nd_factorises():
    value = hl.gaussian_expectation_nd(lambda h: np.tanh(h[:, 0]) ** 2 * h[:, 1] ** 2, dim=2, variance=0.5, order=100)
    one_d = hl.gaussian_expectation(lambda z: np.tanh(z) ** 2, variance=0.5)
    assert value == pytest.approx(one_d * 0.5, rel=1e-10)


def test_coefficients_of_a_polynomial_are_exact():
    p = hl.HermitePolynomial((0.3, -1.0, 0.5, 2.0), "orthonormal")
    np.testing.assert_allclose(hl.hermite_coefficients(p, 5, "orthonormal"), [0.3, -1.0, 0.5, 2.0, 0, 0], atol=1e-12)


def test_coefficients_match_monte_carlo():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(400_000)
    f = lambda u: np.tanh(3 * u)  # noqa: E731
    quad = hl.hermite_coefficients(f, 5, "orthonormal")
    for k in range(6):
        samples = f(z) * hl.hermite(k, z, "orthonormal")
        stderr = samples.std() / math.sqrt(z.size)
        assert abs(samples.mean() - quad[k]) < 5 * stderr + 1e-12


def test_coefficients_reconstruct_the_function_in_l2():
    f = lambda u: np.tanh(u)  # noqa: E731
    coeffs = hl.hermite_coefficients(f, 31, "orthonormal", order=200)
    energy = hl.gaussian_expectation(lambda u: f(u) ** 2, order=200)
    # Parseval: the squared coefficients add up to E[f^2]
    assert np.sum(coeffs**2) == pytest.approx(energy, rel=1e-6)
    assert np.sum(coeffs**2) <= energy * (1 + 1e-9)


def test_convention_change_keeps_the_function():
    p = hl.P3_NUMERICS
    q = p.to_convention("orthonormal")
    torch.testing.assert_close(p(torch.linspace(-3, 3, 31)), q(torch.linspace(-3, 3, 31)))
    assert q.coefficients[2] == pytest.approx(1 / math.sqrt(2))
    assert q.coefficients[3] == pytest.approx(1 / math.sqrt(6))


def test_p3_second_moment_in_both_conventions():
    assert hl.P3_NUMERICS.second_moment == pytest.approx(1 / 2 + 1 / 6)
    assert hl.HermitePolynomial.from_degrees({2: 1, 3: 1}, "orthonormal").second_moment == pytest.approx(2.0)
    quad = hl.gaussian_expectation(lambda z: hl.P3_NUMERICS(z) ** 2)
    assert hl.P3_NUMERICS.second_moment == pytest.approx(quad, rel=1e-12)


@pytest.mark.parametrize(
    "f, expected",
    [
        (lambda z: np.tanh(3 * z), 1),
        (lambda z: z**2 - 1, 2),
        (lambda z: z**3 - 3 * z, 3),
        (lambda z: hl.P3_NUMERICS(z), 2),
        (lambda z: np.abs(z) - math.sqrt(2 / math.pi), 2),
        (lambda z: z**4 - 6 * z**2 + 3, 4),
        (lambda z: np.ones_like(z), None),
    ],
)
def test_information_exponent(f, expected):
    assert hl.information_exponent(f, max_degree=8, order=200) == expected


def test_polynomial_information_exponent_and_degree():
    assert hl.P3_NUMERICS.information_exponent == 2
    assert hl.P3_NUMERICS.degree == 3
    assert hl.HermitePolynomial((1.0,)).information_exponent is None


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: hl.hermite(-1, Z), "k must be an integer >= 0"),
        (lambda: hl.hermite(2, Z, "physicists"), "convention must be one of"),
        (lambda: hl.gauss_hermite(0), r"order must be an integer in \[1, 360\]"),
        (lambda: hl.gaussian_expectation(np.cos, variance=-1.0), "variance must be >= 0"),
        (lambda: hl.HermitePolynomial(()), "at least one value"),
        (lambda: hl.HermitePolynomial((0.0, float("nan"))), "finite"),
        (lambda: hl.gaussian_expectation_nd(np.sum, dim=0), "dim must be an integer >= 1"),
        (lambda: hl.gauss_hermite(1000), r"order must be an integer in \[1, 360\]"),
    ],
)
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()
