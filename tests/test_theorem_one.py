"""Theorem 1's protocol: the activation's conditions, the two update rules, phase 1's learning, configs."""

import dataclasses
import math

import numpy as np
import pytest
import torch

import hight_lite as hl


@pytest.fixture(scope="module")
def activation():
    return hl.TheoremActivation.solve()


def _monte_carlo(values: torch.Tensor) -> tuple[float, float]:
    return float(values.mean()), float(values.std() / math.sqrt(values.numel()))


def test_activation_conditions_hold_by_quadrature(activation):
    table = activation.conditions(max_degree=3)
    assert table.holds.all(), table
    assert abs(activation.composite_linear_moment()) < 1e-12
    assert abs(activation.mean()) < 1e-12
    assert abs(activation.slope_at_zero) > 0.05
    # an independent quadrature of E[σ(σ(z)) z] with numpy's rule at another order
    nodes, weights = np.polynomial.hermite_e.hermegauss(150)
    assert abs(np.dot(weights, activation.composite(nodes) * nodes) / math.sqrt(2 * math.pi)) < 1e-10
    # the solved a maximises |ρ| along the constraint: nearby a (with their own b) do worse
    for shift in (-0.05, 0.05):
        a = abs(activation.a) + shift
        other = hl.TheoremActivation(a, hl.TheoremActivation.slope_for(a), hl.TheoremActivation.offset_for(a))
        assert abs(other.composite_linear_moment()) < 1e-12
        assert abs(other.signal_to_noise()) < abs(activation.signal_to_noise())


def test_activation_conditions_hold_by_monte_carlo(activation):
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(2_000_000, generator=gen, dtype=torch.float64)
    phi = activation.composite(z)
    for values, expected in [
        (phi * z, 0.0),                                                    # E[σ(σ(z)) z] = 0
        (activation(z), 0.0),                                              # E[σ(z)] = 0
        (phi * (z**2 - 1) / math.sqrt(2), activation.composite_hermite(2)[2]),  # c₂(σ∘σ)
        (activation(z) * (z**3 - 3 * z) / math.sqrt(6), activation.hermite(3)[3]),  # c₃(σ)
    ]:
        mean, stderr = _monte_carlo(values)
        assert abs(mean - expected) < 4 * stderr, (mean, expected, stderr)
    assert activation.composite_hermite(2)[2] > 10 * _monte_carlo(phi * (z**2 - 1))[1]  # the signal is not noise


def test_activation_derivatives_match_autograd(activation):
    z = torch.linspace(-4, 4, 101, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(activation(z).sum(), z)
    assert torch.allclose(grad, activation.derivative(z.detach()), atol=1e-12)
    (grad,) = torch.autograd.grad(activation.composite(z).sum(), z)
    assert torch.allclose(grad, activation.composite_derivative(z.detach()), atol=1e-12)
    assert math.isclose(activation.slope_at_zero, 1 - math.tanh(activation.a) ** 2 - activation.b)


def test_activation_sign_flip_and_uncentred_variant(activation):
    flipped = hl.TheoremActivation.solve(he2_sign=-1.0)
    assert math.isclose(flipped.a, -activation.a) and math.isclose(flipped.b, activation.b)
    assert math.isclose(flipped.composite_hermite(2)[2], -activation.composite_hermite(2)[2], rel_tol=1e-9)
    assert flipped.satisfies(he2_sign=-1.0) and not flipped.satisfies(he2_sign=1.0)
    plain = hl.TheoremActivation.solve(centered=False)  # the digest's tanh(z + a) - b z
    assert plain.c == 0.0 and abs(plain.composite_linear_moment()) < 1e-12
    table = plain.conditions().set_index("condition")
    assert not table.holds.all() and abs(plain.mean()) > 0.1


def _projected_autograd_step(w1, x, y, activation, lr):
    w = w1.clone().requires_grad_(True)
    p = w.shape[0]
    loss = -(y * activation.composite(x @ w.T).sum(1) / math.sqrt(p)).mean()  # W₂ = I, w₃ = 1
    (grad,) = torch.autograd.grad(loss, w)
    tangent = grad - (grad * w1).sum(1, keepdim=True) * w1  # the Riemannian gradient on each sphere
    moved = w1 - lr * tangent
    return moved / moved.norm(dim=1, keepdim=True), loss.detach()


def test_spherical_step_stays_on_the_sphere_and_matches_autograd(activation):
    gen = torch.Generator().manual_seed(1)
    w1 = torch.randn(7, 6, generator=gen, dtype=torch.float64)
    w1 = w1 / w1.norm(dim=1, keepdim=True)
    x = torch.randn(50, 6, generator=gen, dtype=torch.float64)
    y = torch.tanh(x[:, 0] * x[:, 1])
    for lr in (0.3, 5.0):
        new, loss = hl.spherical_step(w1, x, y, activation, lr)
        expected, expected_loss = _projected_autograd_step(w1, x, y, activation, lr)
        assert torch.allclose(new.norm(dim=1), torch.ones(7, dtype=torch.float64), atol=1e-12)
        assert torch.allclose(new, expected, atol=1e-12)
        assert torch.allclose(loss, expected_loss, atol=1e-14)
        assert not torch.allclose(new, w1)


def test_preconditioned_step_equals_gradient_times_explicit_inverse(activation):
    gen = torch.Generator().manual_seed(2)
    n, p1, p2 = 20, 5, 3
    features = torch.randn(n, p1, generator=gen, dtype=torch.float64)
    y = torch.randn(n, generator=gen, dtype=torch.float64)
    w3 = torch.randn(p2, generator=gen, dtype=torch.float64)
    lr, ridge = 0.7, 0.3
    for w2 in (torch.randn(p2, p1, generator=gen, dtype=torch.float64), torch.zeros(p2, p1, dtype=torch.float64)):
        w = w2.clone().requires_grad_(True)
        loss = -(y * (activation(features @ w.T) @ w3) / math.sqrt(p2)).mean()
        (grad,) = torch.autograd.grad(loss, w)
        assert torch.allclose(hl.second_layer_gradient(w2, w3, features, y, activation), grad, atol=1e-13)
        inverse = torch.linalg.inv(features.T @ features / n + ridge * torch.eye(p1, dtype=torch.float64))
        expected = w2 - lr * grad @ inverse
        assert torch.allclose(hl.preconditioned_step(w2, w3, features, y, activation, lr, ridge), expected, atol=1e-12)
    # from W₂ = 0 every row is (w₃)_j times the ridge fit of y on the features
    new = hl.preconditioned_step(torch.zeros(p2, p1, dtype=torch.float64), w3, features, y, activation, lr, ridge)
    ridge_fit = torch.linalg.solve(features.T @ features / n + ridge * torch.eye(p1, dtype=torch.float64), features.T @ y / n)
    assert torch.allclose(new, lr * activation.slope_at_zero * torch.outer(w3, ridge_fit) / math.sqrt(p2), atol=1e-12)


@pytest.fixture(scope="module")
def sight32():
    return hl.sight(32, teacher_signs="ones")


def _final_overlap(target_config, config, seed):
    target = target_config.build(hl.seeded_generator(seed, 0))
    return hl.phase_one(target, config, hl.seeded_generator(seed, 1)).history.overlap_W_0.iloc[-1]


def test_phase_one_finds_the_subspace_only_with_large_batches(sight32):
    config = hl.TheoremConfig.paper(sight32, width_factor=1.0)
    random = hl.random_first_layer_overlap(sight32.d, sight32.d_eff)
    for seed in range(3):
        ample = _final_overlap(sight32, dataclasses.replace(config, kappa1=2.0), seed)
        tiny = _final_overlap(sight32, dataclasses.replace(config, kappa1=0.5), seed)
        assert ample > random + 0.45, (seed, ample)
        assert abs(tiny - random) < 0.15, (seed, tiny)


def test_phase_one_follows_the_mean_field_prediction(sight32):
    config = hl.TheoremConfig.paper(sight32, width_factor=1.0, kappa1=1.5)
    predicted = hl.predict_phase_one(sight32, config)
    runs = []
    for seed in range(3):
        target = sight32.build(hl.seeded_generator(seed, 0))
        runs.append(hl.phase_one(target, config, hl.seeded_generator(seed, 1)).history.overlap_W_0.to_numpy())
    median = np.median(np.array(runs), axis=0)
    assert len(median) == len(predicted) == config.sizes(sight32).steps1 + 1
    assert np.abs(median - predicted.overlap_W_0.to_numpy()).max() < 0.06
    assert predicted.overlap_W_0.iloc[-1] > predicted.overlap_W_0.iloc[0] + 0.3


def test_train_theorem_one_learns_and_records(sight32):
    target_config = hl.sight(16, teacher_signs="ones")
    config = hl.TheoremConfig.paper(target_config)
    target = target_config.build(hl.seeded_generator(0, 0))
    result = hl.train_theorem_one(target, config, hl.seeded_generator(0, 1), n_test=500)
    history = result.history
    assert list(history.phase.unique()) == ["phase 1", "phase 2", "phase 3"]
    assert {"step", "samples", "total_samples", "overlap_W_0", "overlap_h_0"} <= set(history.columns)
    assert (history[history.phase == "phase 1"].step.to_numpy() == np.arange(result.sizes.steps1 + 1)).all()
    assert history.total_samples.iloc[-1] == result.sizes.samples
    assert result.test_error < 0.5 * hl.random_level(target_config)
    assert history[history.phase == "phase 2"].overlap_h_0.item() > 0.7
    # after the single step every second-layer pre-activation is a multiple of the same function
    pre = result.network.preactivation2(target.sample(200, torch.Generator().manual_seed(3)).x)
    singular = torch.linalg.svdvals(pre)
    assert singular[1] < 1e-4 * singular[0]


def test_same_seed_same_numbers():
    target_config = hl.sight(16, teacher_signs="ones")
    config = hl.TheoremConfig.paper(target_config, width_factor=1.0)
    runs = []
    for seed in (0, 0, 1):
        target = target_config.build(hl.seeded_generator(seed, 0))
        runs.append(hl.train_theorem_one(target, config, hl.seeded_generator(seed, 1), n_test=200))
    assert runs[0].test_error == runs[1].test_error
    assert runs[0].history.equals(runs[1].history)
    assert runs[0].test_error != runs[2].test_error


@pytest.mark.parametrize(
    "field, value",
    [("width1", 0), ("width2", 2.5), ("delta", -0.1), ("kappa1", 0.0), ("kappa2", 12.0), ("kappa3", None),
     ("steps1_coefficient", 0.0), ("lr1_coefficient", -1.0), ("lr2_coefficient", float("inf")),
     ("ridge2_coefficient", 0.0), ("ridge3", -1e-3), ("n_probe", 1), ("activation", "tanh")],
)
def test_bad_config_values_raise_naming_the_field(field, value, activation):
    good = dict(width1=10, width2=10, activation=activation)
    good[field] = value
    with pytest.raises(ValueError, match=field):
        hl.TheoremConfig(**good)


def test_bad_inputs_raise(activation):
    with pytest.raises(ValueError, match="σ'\\(0\\)"):
        hl.TheoremConfig(width1=4, width2=4, activation=hl.TheoremActivation(0.0, 1.0))  # σ'(0) = 0
    with pytest.raises(ValueError, match="a must be"):
        hl.TheoremActivation(float("nan"), 0.1)
    with pytest.raises(ValueError, match="SIGHT"):
        hl.TheoremConfig.paper(hl.might(32, branches=2))
    with pytest.raises(ValueError, match="product"):
        hl.TheoremConfig.paper(hl.sight(32, teacher_signs="ones"), activation=hl.TheoremActivation.solve(he2_sign=-1))
    with pytest.raises(ValueError, match="generator"):
        config = hl.TheoremConfig.paper(hl.sight(16))
        hl.phase_one(hl.sight(16).build(torch.Generator()), config, generator=0)
