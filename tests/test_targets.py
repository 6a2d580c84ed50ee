"""SIGHT, MIGHT and deep targets: structure, statistics, reproducibility and bad input."""

import math

import numpy as np
import pytest
import torch

import hight_lite as hl


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_sight_shapes_and_widths():
    cfg = hl.sight(64)
    assert cfg.d_eff == 8 and cfg.level_widths == (8, 1) and cfg.block_sizes == (8,)
    target = cfg.build(gen())
    s = target.sample(100, gen(1))
    assert s.x.shape == (100, 64) and s.y.shape == (100,)
    assert s.z.shape == (100, 8) and s.h.shape == (100, 1) and len(s) == 100


@pytest.mark.parametrize("cfg", [hl.sight(256), hl.might(256, 3), hl.deep_target(256, (3 / 4, 1 / 2, 1 / 4), branches=2)])
def test_teacher_rows_are_jointly_orthonormal(cfg):
    w = cfg.build(gen(), dtype=torch.float64).teacher
    assert w.shape == (cfg.branches * cfg.d_eff, cfg.d)
    torch.testing.assert_close(w @ w.T, torch.eye(w.shape[0], dtype=torch.float64), atol=1e-12, rtol=0)


def test_sight_matches_the_formula_written_by_hand():
    cfg = hl.sight(100)
    target = cfg.build(gen(3), dtype=torch.float64)
    s = target.sample(500, gen(4))
    z = s.x @ target.teacher.T
    p3 = (z**2 - 1) / 2 + (z**3 - 3 * z) / 6
    h = (p3 * target.signs[0][:, :]).sum(-1) / math.sqrt(cfg.d_eff)
    torch.testing.assert_close(s.h[:, 0], h)
    torch.testing.assert_close(s.y, torch.tanh(3 * h))
    assert set(target.signs[0].unique().tolist()) == {-1.0, 1.0}


def test_deep_block_structure():
    cfg = hl.deep_target(64, (2 / 3, 1 / 3))
    assert cfg.level_widths == (16, 4, 1) and cfg.block_sizes == (4, 4)
    target = cfg.build(gen(), dtype=torch.float64)
    s = target.sample(50, gen(1))
    h1, h2, h3 = s.levels
    # each component of h2 depends only on its own block of h1
    for m in range(4):
        block = h1[:, 4 * m : 4 * m + 4]
        expected = (cfg.polynomial(block) * target.signs[0][m]).sum(-1) / 2
        torch.testing.assert_close(h2[:, m], expected)
    perturbed = h1.clone()
    perturbed[:, 4:8] += 1.0  # only block 1 moves
    p = cfg.polynomial(perturbed).reshape(50, 4, 4)
    new_h2 = (p * target.signs[0]).sum(-1) / 2
    changed = (new_h2 - h2).abs().amax(0) > 1e-9
    assert changed.tolist() == [False, True, False, False]
    torch.testing.assert_close(h3[:, 0], (cfg.polynomial(h2) * target.signs[1][0]).sum(-1) / 2)


def test_might_branches_are_disjoint_trees():
    cfg = hl.deep_target(256, (3 / 4, 1 / 2, 1 / 4), branches=2)
    assert cfg.total_widths == (128, 32, 8, 2)
    target = cfg.build(gen())
    assert [tuple(a.shape) for a in target.signs] == [(32, 4), (8, 4), (2, 4)]
    s = target.sample(10, gen(1))
    # zeroing branch 1's first-level features leaves branch 0's top feature unchanged
    levels = list(s.levels)
    h = levels[0].clone()
    h[:, 64:] = 0
    for a, b in zip(target.signs, cfg.block_sizes):
        h = (cfg.polynomial(h).reshape(10, a.shape[0], b) * a).sum(-1) / math.sqrt(b)
    torch.testing.assert_close(h[:, 0], s.h[:, 0])


def test_variance_of_h_is_the_second_moment_of_p():
    cfg = hl.sight(256)
    s = cfg.build(gen(), dtype=torch.float64).sample(200_000, gen(1))
    estimate = hl.monte_carlo_mean(s.h[:, 0] ** 2)
    assert abs(estimate.mean - hl.P3_NUMERICS.second_moment) < 4 * estimate.stderr


def test_h_becomes_gaussian_as_d_grows():
    """Excess kurtosis of h* shrinks like 1/d_eff."""
    kurtosis = []
    for d in (16, 144, 1024):
        s = hl.sight(d).build(gen(d)).sample(100_000, gen(d + 1))
        h = s.h[:, 0].double()
        kurtosis.append(float((h**4).mean() / (h**2).mean() ** 2 - 3))
    assert kurtosis[0] > kurtosis[1] > kurtosis[2]
    assert kurtosis[2] < 0.3 * kurtosis[0]


def test_random_level_approaches_quadrature_as_d_grows():
    limit = hl.random_level(hl.sight(64))
    assert limit == pytest.approx(hl.gaussian_expectation(lambda h: np.tanh(3 * h) ** 2, variance=2 / 3))
    gaps = [limit - hl.random_level_monte_carlo(hl.sight(d), 50_000, gen(d)).mean for d in (64, 256, 1024)]
    assert gaps[0] > gaps[1] > gaps[2] > 0
    assert gaps[2] < 0.05


def test_same_seed_same_numbers():
    cfg = hl.might(64, 2)
    a = cfg.build(gen(7)).sample(32, gen(8))
    b = cfg.build(gen(7)).sample(32, gen(8))
    c = cfg.build(gen(9)).sample(32, gen(8))
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.y, c.y)


def test_device_and_dtype_are_respected():
    target = hl.sight(64).build(gen(), device="cpu", dtype=torch.float64)
    s = target.sample(4, gen())
    assert s.x.dtype == torch.float64 and s.y.dtype == torch.float64 and s.x.device.type == "cpu"
    # the teacher does not depend on the dtype it is stored in
    t32 = hl.sight(64).build(gen(), dtype=torch.float32)
    torch.testing.assert_close(t32.teacher.double(), target.teacher, atol=1e-6, rtol=0)


def test_theory_signs_are_ones():
    target = hl.sight(64, teacher_signs="ones").build(gen())
    assert torch.all(target.signs[0] == 1)


def test_parity_and_committee_links():
    h = torch.tensor([[1.0, -2.0, 0.5], [0.3, 0.2, 0.1]])
    torch.testing.assert_close(hl.Parity()(h), torch.tensor([-1.0, 1.0]))
    torch.testing.assert_close(hl.Committee(3.0)(h), torch.tanh(3 * h).sum(-1) / math.sqrt(3))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: hl.sight(64, epsilon=1.0), r"epsilons\[0\].*open interval \(0, 1\)"),
        (lambda: hl.sight(64, epsilon=0.0), r"epsilons\[0\].*open interval \(0, 1\)"),
        (lambda: hl.deep_target(64, (1 / 3, 2 / 3)), "strictly decreasing"),
        (lambda: hl.deep_target(64, (0.5, 0.5)), "strictly decreasing"),
        (lambda: hl.TargetConfig(d=64, widths=(0,)), r"widths\[0\].*must be >= 1"),
        (lambda: hl.deep_target(64, (0.5, 0.3)), "blocks do not fit"),
        (lambda: hl.might(16, branches=5), r"branches \* d_eff must be <= d"),
        (lambda: hl.sight(64, polynomial=hl.HermitePolynomial((0.5, 0.0, 1.0))), r"E\[P\(z\)\] = 0"),
        (lambda: hl.sight(64, polynomial=hl.HermitePolynomial((0.0, 1.0, 1.0))), "no linear part"),
        (lambda: hl.sight(1), "d must be an integer >= 2"),
        (lambda: hl.might(64, branches=0), r"branches \(r\) must be an integer >= 1"),
        (lambda: hl.sight(64, teacher_signs="gaussian"), "teacher_signs must be one of"),
        (lambda: hl.might(64, 2, link=hl.Tanh(3.0)), "takes 1 top-level"),
        (lambda: hl.TargetConfig(d=64, widths=(8, 2)), "one entry per exponent"),
    ],
)
def test_bad_config_raises_a_clear_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_sample_size_must_be_positive():
    target = hl.sight(64).build(gen())
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        target.sample(0, gen())


def test_assumption_checks_can_be_switched_off():
    cfg = hl.sight(64, polynomial=hl.HermitePolynomial((0.0, 1.0, 1.0)), check_assumptions=False)
    assert cfg.polynomial.information_exponent == 1


def test_latents_reject_wrong_input_shape():
    target = hl.sight(64).build(gen())
    with pytest.raises(ValueError, match=r"x must have shape \(n, 64\)"):
        target.latents(torch.zeros(3, 10))


def test_standardized_levels_are_near_unit_variance_and_centred():
    cfg = hl.deep_target(4096, (2 / 3, 1 / 3), standardize_levels=True)
    target = cfg.build(gen(0), dtype=torch.float64)
    _, h2, _ = hl.HierarchicalTarget(
        hl.TargetConfig(d=256, epsilons=cfg.epsilons, widths=(256, 16), standardize_levels=True),
        torch.eye(256, dtype=torch.float64), target.signs,
    ).sample(50_000, gen(1)).levels
    assert float(h2.var()) == pytest.approx(1.0, abs=0.03)
    assert abs(float(h2.mean())) < 0.02
    assert hl.gaussian_limit_variances(cfg) == pytest.approx((1.0, 1.0, 2 / 3))


def test_stacked_samples_select_back_and_must_match():
    target = hl.sight(16).build(torch.Generator().manual_seed(0))
    a, b = (target.sample(20, torch.Generator().manual_seed(s)) for s in (1, 2))
    stacked = hl.TargetSample.stack([a, b])
    assert stacked.x.shape == (2, 20, 16) and stacked.h.shape == (2, 20, 1)
    torch.testing.assert_close(stacked.select(1).y, b.y)
    with pytest.raises(ValueError, match="same shapes"):
        hl.TargetSample.stack([a, target.sample(21, torch.Generator().manual_seed(3))])
