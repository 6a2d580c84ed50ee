"""Two-layer protocol: the hand-written update against autograd, the readout, divergence, bad configs."""

import math

import pytest
import torch

import hight_lite as hl
from hight_lite.two_layer import TwoLayerNetwork, first_layer_gradient


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def small_problem(n=200, d=16, dtype=torch.float64):
    target = hl.sight(d).build(gen(0), dtype=dtype)
    return target, target.sample(n, gen(1)), target.sample(100, gen(2))


def test_gradient_matches_autograd():
    target, train, _ = small_problem()
    cfg = hl.TwoLayerConfig(width=12, epochs=1)
    net = TwoLayerNetwork.init(16, cfg, gen(3), dtype=torch.float64)
    grad, loss = first_layer_gradient(net, train.x, train.y)
    w1 = net.w1.clone().requires_grad_(True)
    out = torch.relu(train.x @ w1.T + net.b1) @ net.w2
    auto_loss = 0.5 * ((out - train.y) ** 2).mean()
    auto_loss.backward()
    torch.testing.assert_close(grad, w1.grad)
    torch.testing.assert_close(loss, 2 * auto_loss.detach())


def test_one_step_is_the_papers_update():
    """After one step, W1 equals the autograd update with the paper's scaling √p/ε_init and weight decay."""
    target, train, _ = small_problem()
    cfg = hl.TwoLayerConfig(width=12, epochs=1, batch_fraction=1.0, lr=0.3, weight_decay=0.05, checkpoints=2)
    result = hl.train_two_layer(train, cfg, gen(3))
    net0 = TwoLayerNetwork.init(16, cfg, gen(3), dtype=torch.float64)
    w1 = net0.w1.clone().requires_grad_(True)
    loss = 0.5 * ((torch.relu(train.x @ w1.T + net0.b1) @ net0.w2 - train.y) ** 2).mean()
    loss.backward()
    expected = net0.w1 - 0.3 * (math.sqrt(12) / 0.2 * w1.grad + 0.05 * net0.w1)
    assert cfg.steps == 1
    torch.testing.assert_close(result.network.w1, expected)


def test_readout_matches_lstsq_on_the_augmented_system():
    g = gen(4)
    h = torch.randn(30, 7, generator=g, dtype=torch.float64)
    y = torch.randn(30, generator=g, dtype=torch.float64)
    lam = 0.2
    augmented = torch.cat([h, math.sqrt(lam * 30) * torch.eye(7, dtype=torch.float64)])
    rhs = torch.cat([y, torch.zeros(7, dtype=torch.float64)])
    expected = torch.linalg.lstsq(augmented, rhs[:, None]).solution[:, 0]
    torch.testing.assert_close(hl.ridge_solve(h, y, lam), expected)
    # ridge 0 and n > p: ordinary least squares
    torch.testing.assert_close(hl.ridge_solve(h, y, 0.0), torch.linalg.lstsq(h, y[:, None]).solution[:, 0])


def test_training_learns_the_subspace_and_beats_the_random_level():
    target = hl.sight(16).build(gen(0))
    train, test = target.sample(1024, gen(1)), target.sample(1000, gen(2))
    cfg = hl.TwoLayerConfig.paper(16, 1024)
    result = hl.train_two_layer(train, cfg, gen(3), target=target, validation=test)
    history = result.record.history
    assert not result.diverged
    first, last = history.iloc[0], history.iloc[-1]
    assert last.overlap_W_0 > first.overlap_W_0 + 0.2
    assert first.overlap_W_0 == pytest.approx(hl.random_first_layer_overlap(16, 4), abs=0.1)
    assert hl.mse(result.network(test.x), test.y) < 0.7 * float((test.y**2).mean())
    assert list(history.stage.unique()) == ["first layer", "readout"]
    assert history.step.is_monotonic_increasing


def test_only_the_first_layer_moves_during_training():
    target, train, _ = small_problem()
    cfg = hl.TwoLayerConfig(width=8, epochs=3, checkpoints=3)
    net0 = TwoLayerNetwork.init(16, cfg, gen(5), dtype=torch.float64)
    result = hl.train_two_layer(train, cfg, gen(5))
    assert torch.equal(result.network.b1, net0.b1)
    assert not torch.equal(result.network.w1, net0.w1)
    # the readout is the ridge solution on the final features
    expected = hl.ridge_solve(result.network.features(train.x), train.y, cfg.ridge)
    torch.testing.assert_close(result.network.w2, expected)


def test_divergence_is_reported_with_its_step():
    target, train, _ = small_problem(dtype=torch.float32)
    cfg = hl.TwoLayerConfig(width=8, epochs=50, lr=1e6, checkpoints=5)
    result = hl.train_two_layer(train, cfg, gen(6))
    assert result.diverged
    assert result.record.diverged_stage == "first layer"
    assert 0 <= result.record.diverged_step < cfg.steps


def test_same_seed_same_numbers():
    target, train, _ = small_problem()
    cfg = hl.TwoLayerConfig(width=8, epochs=3)
    a = hl.train_two_layer(train, cfg, gen(7))
    b = hl.train_two_layer(train, cfg, gen(7))
    assert torch.equal(a.network.w1, b.network.w1) and torch.equal(a.network.w2, b.network.w2)


def test_paper_sizes():
    cfg = hl.TwoLayerConfig.paper(64, 9410)
    assert cfg.width == int(int(9410**0.9) / 15)
    assert cfg.epochs == int(5 * 64**1.5) and cfg.steps == int(cfg.epochs / 0.7)
    assert hl.TwoLayerConfig.paper(64, 9410, width_divisor=25).width == int(int(9410**0.9) / 25)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(width=0), "width must be an integer >= 1"),
        (dict(ridge=-0.5), "ridge must be a finite number >= 0"),
        (dict(batch_fraction=0.0), r"batch_fraction must lie in \(0, 1\]"),
        (dict(batch_fraction=1.5), r"batch_fraction must lie in \(0, 1\]"),
        (dict(lr=0.0), "lr must be a finite number > 0"),
        (dict(weight_decay=-1.0), "weight_decay must be a finite number >= 0"),
        (dict(epochs=-1), "epochs must be an integer >= 0"),
        (dict(checkpoints=1), "checkpoints must be an integer >= 2"),
    ],
)
def test_bad_config(kwargs, match):
    fields = dict(width=8, epochs=2)
    fields.update(kwargs)
    with pytest.raises(ValueError, match=match):
        hl.TwoLayerConfig(**fields)


def test_batched_seeds_equal_one_seed_at_a_time(one_thread):
    targets = [hl.sight(16).build(torch.Generator().manual_seed(10 + s)) for s in range(3)]  # float32: bitwise
    trains = [t.sample(150, torch.Generator().manual_seed(20 + s)) for s, t in enumerate(targets)]
    cfg = hl.TwoLayerConfig(width=12, epochs=4, checkpoints=3)
    gens = lambda: [torch.Generator().manual_seed(30 + s) for s in range(3)]  # noqa: E731
    batched = hl.train_two_layer_batch(trains, cfg, gens(), targets=targets)
    for s, g in enumerate(gens()):
        alone = hl.train_two_layer(trains[s], cfg, g, target=targets[s])
        for name in ("w1", "b1", "w2"):
            assert torch.equal(getattr(batched[s].network, name), getattr(alone.network, name)), name
        assert batched[s].record.history.equals(alone.record.history)
