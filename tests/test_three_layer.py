"""Three-layer learners: hand-written gradients against autograd, frozen layers, losses, options."""

import math
from dataclasses import replace as dataclasses_replace

import pandas as pd
import pytest
import torch

import hight_lite as hl
from hight_lite.three_layer import ThreeLayerNetwork, gradients


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def problem(n=300, d=16, dtype=torch.float64):
    target = hl.sight(d).build(gen(0), dtype=dtype)
    return target, target.sample(n, gen(1)), target.sample(200, gen(2))


def small_layerwise(**kw):
    fields = dict(width1=24, width2=10, epochs1=3, epochs2=4, checkpoints=3)
    fields.update(kw)
    return hl.LayerwiseConfig(**fields)


@pytest.mark.parametrize("full_n", [None, 1000])
def test_gradients_match_autograd(full_n):
    _, train, _ = problem()
    net = ThreeLayerNetwork.init(16, small_layerwise(), gen(3), dtype=torch.float64)
    net.w3 = net.w3 * 10  # make every layer's gradient sizeable
    grads, loss = gradients(net, train.x, train.y, full_n=full_n)
    params = {k: getattr(net, k).clone().requires_grad_(True) for k in ("w1", "w2", "w3")}
    h1 = torch.relu(train.x @ params["w1"].T + net.b1)
    out = torch.relu(h1 @ params["w2"].T + net.b2) @ params["w3"]
    sq = ((out - train.y) ** 2).sum() / 2
    m = train.x.shape[0]
    for name in ("w1", "w2", "w3"):
        (g,) = torch.autograd.grad(sq, params[name], retain_graph=True)
        divisor = m if (name == "w1" or full_n is None) else full_n
        torch.testing.assert_close(grads[name], g / divisor)
    torch.testing.assert_close(loss, 2 * sq.detach() / m)


def test_frozen_first_layer_features_give_the_same_second_layer_gradient():
    _, train, _ = problem()
    net = ThreeLayerNetwork.init(16, small_layerwise(), gen(3), dtype=torch.float64)
    a, _ = gradients(net, train.x, train.y, need=("w2",))
    b, _ = gradients(net, None, train.y, h1=net.features1(train.x), need=("w2",))
    torch.testing.assert_close(a["w2"], b["w2"])


def test_layerwise_shapes_and_frozen_layers():
    target, train, val = problem()
    cfg = small_layerwise(epochs1=0)
    net0 = ThreeLayerNetwork.init(16, cfg, gen(4), dtype=torch.float64)
    result = hl.train_layerwise(train, cfg, gen(4), target=target, validation=val)
    net = result.network
    assert net.w1.shape == (24, 16) and net.w2.shape == (10, 24) and net.w3.shape == (10,)
    torch.testing.assert_close(net.w1, net0.w1)  # no stage-1 epochs: W1 never moved
    assert torch.equal(net.b1, net0.b1) and torch.equal(net.b2, net0.b2)  # biases are fixed
    assert not torch.equal(net.w2, net0.w2)
    torch.testing.assert_close(net.w3, hl.ridge_solve(net.features2(train.x), train.y, cfg.ridge))
    assert list(result.record.history.stage.unique()) == ["first layer", "second layer", "readout"]


def test_stage_one_moves_only_the_first_layer():
    target, train, _ = problem()
    cfg = small_layerwise(epochs2=0)
    net0 = ThreeLayerNetwork.init(16, cfg, gen(5), dtype=torch.float64)
    net = hl.train_layerwise(train, cfg, gen(5)).network
    assert not torch.equal(net.w1, net0.w1)
    torch.testing.assert_close(net.w2, net0.w2)


def test_layerwise_learns_on_a_small_problem():
    target = hl.sight(16).build(gen(0))
    train, test = target.sample(1024, gen(1)), target.sample(1000, gen(2))
    cfg = hl.LayerwiseConfig.paper(16, 1024)
    result = hl.train_layerwise(train, cfg, gen(3), target=target, validation=test)
    h = result.record.history
    assert not result.diverged
    assert h.overlap_W_0.iloc[-1] > h.overlap_W_0.iloc[0] + 0.2
    assert h.overlap_h_0.iloc[-1] > 2 * h.overlap_h_0.iloc[0]
    stage2 = h[h.stage == "second layer"]
    assert stage2.train_loss.iloc[-1] < stage2.train_loss.iloc[0]
    assert hl.mse(result.network(test.x), test.y) < 0.5 * float((test.y**2).mean())


def test_joint_loss_goes_down_and_all_layers_move():
    target = hl.sight(16).build(gen(0))
    train = target.sample(512, gen(1))
    cfg = hl.JointConfig.paper(16, 512, epochs_coefficient=1.0)
    net0 = ThreeLayerNetwork.init(16, cfg, gen(6))
    result = hl.train_joint(train, cfg, gen(6), target=target)
    h = result.record.history
    assert h.train_loss.iloc[-1] < 0.8 * h.train_loss.iloc[0]
    for name in ("w1", "w2", "w3"):
        assert not torch.equal(getattr(result.network, name), getattr(net0, name))


def test_reference_normalisation_is_a_smaller_second_layer_step():
    """With the authors' normalisation the W2 step is |B|/n times the per-mini-batch one."""
    _, train, _ = problem()
    net = ThreeLayerNetwork.init(16, small_layerwise(), gen(3), dtype=torch.float64)
    ref, _ = gradients(net, train.x, train.y, full_n=3 * train.x.shape[0])
    clean, _ = gradients(net, train.x, train.y)
    torch.testing.assert_close(ref["w2"] * 3, clean["w2"])
    torch.testing.assert_close(ref["w1"], clean["w1"])


def test_reinitialize_and_fresh_data():
    target, train, _ = problem()
    fresh = [target.sample(300, gen(s)) for s in (10, 11, 12)]
    a = hl.train_layerwise(train, small_layerwise(), gen(7))
    b = hl.train_layerwise(fresh, small_layerwise(), gen(7))
    c = hl.train_layerwise(train, small_layerwise(reinitialize=True), gen(7))
    assert not torch.equal(a.network.w1, b.network.w1)
    torch.testing.assert_close(a.network.w1, c.network.w1)  # stage 1 is identical
    assert not torch.equal(a.network.w2, c.network.w2)
    with pytest.raises(ValueError, match="three, one per stage"):
        hl.train_layerwise(fresh[:2], small_layerwise(), gen(7))


def test_divergence_is_reported():
    _, train, _ = problem(dtype=torch.float32)
    result = hl.train_joint(train, hl.JointConfig(width1=16, epochs=30, lr=1e7, checkpoints=4), gen(8))
    assert result.diverged and result.record.diverged_stage == "joint"
    assert result.record.diverged_step is not None


def test_second_layer_overlap_of_a_perfect_unit_is_one():
    h = torch.randn(500, 2, generator=gen(9), dtype=torch.float64)
    pre = torch.stack([3 * h[:, 0], -h[:, 1], torch.randn(500, generator=gen(10), dtype=torch.float64)], 1)
    overlap = hl.second_layer_overlap(pre, h)
    # branch 0: one of three units is perfectly aligned -> sqrt(1/3 + small)
    assert overlap[0] == pytest.approx(math.sqrt(1 / 3), abs=0.05)
    assert overlap[1] == pytest.approx(math.sqrt(1 / 3), abs=0.05)


def test_paper_sizes():
    cfg = hl.LayerwiseConfig.paper(64, 9410)
    assert (cfg.width1, cfg.width2) == (int(9410**0.9), 100)
    assert cfg.epochs1 == int(15 * math.log(64)) and cfg.epochs2 == int(5 * 64**1.5)
    joint = hl.JointConfig.paper(64, 9410)
    assert joint.epochs == cfg.epochs2 and joint.weight_decay2 == 0.01 and joint.joint_lr_factor == 0.15


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: small_layerwise(width1=0), "width1 must be an integer >= 1"),
        (lambda: small_layerwise(width2=0), "width2 must be an integer >= 1"),
        (lambda: small_layerwise(batch_fraction=1.2), r"batch_fraction must lie in \(0, 1\]"),
        (lambda: small_layerwise(ridge=-1.0), "ridge must be a finite number >= 0"),
        (lambda: small_layerwise(gradient_normalization="full"), "gradient_normalization must be"),
        (lambda: hl.JointConfig(width1=4, epochs=1, joint_lr_factor=0.0), "joint_lr_factor must be"),
        (lambda: hl.JointConfig(width1=4, epochs=1, weight_decay3=-1.0), "weight_decay3 must be"),
    ],
)
def test_bad_config(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def _seed_problems(seeds, n=200, d=16, dtype=torch.float32):
    targets = [hl.sight(d).build(gen(10 + s), dtype=dtype) for s in range(seeds)]
    trains = [t.sample(n, gen(20 + s)) for s, t in enumerate(targets)]
    vals = [t.sample(50, gen(30 + s)) for s, t in enumerate(targets)]
    return targets, trains, vals


def _assert_same_run(a, b):
    """Bitwise the same weights and records (float32: batching must not change a single bit)."""
    for name in ("w1", "b1", "w2", "b2", "w3"):
        assert torch.equal(getattr(a.network, name), getattr(b.network, name)), name
    pd.testing.assert_frame_equal(a.record.history, b.record.history, check_exact=True)


@pytest.mark.parametrize("fresh", [False, True])
def test_batched_layerwise_equals_one_seed_at_a_time(fresh, one_thread):
    targets, trains, vals = _seed_problems(3)
    if fresh:
        trains = [(s, t.sample(200, gen(40 + i)), t.sample(200, gen(50 + i))) for i, (s, t) in enumerate(zip(trains, targets))]
    cfg = small_layerwise(epochs1=3, epochs2=5, reinitialize=True)
    batched = hl.train_layerwise_batch(trains, cfg, [gen(60 + s) for s in range(3)], targets=targets, validation=vals, n_probe=100)
    for s in range(3):
        alone = hl.train_layerwise(trains[s], cfg, gen(60 + s), target=targets[s], validation=vals[s], n_probe=100)
        _assert_same_run(batched[s], alone)


def test_batched_joint_equals_one_seed_at_a_time(one_thread):
    targets, trains, vals = _seed_problems(2)
    cfg = hl.JointConfig(width1=24, width2=10, epochs=6, checkpoints=4)
    batched = hl.train_joint_batch(trains, cfg, [gen(70 + s) for s in range(2)], targets=targets, validation=vals, n_probe=100)
    for s in range(2):
        _assert_same_run(batched[s], hl.train_joint(trains[s], cfg, gen(70 + s), target=targets[s], validation=vals[s], n_probe=100))


def test_a_diverging_seed_does_not_stop_the_others(one_thread):
    targets, trains, _ = _seed_problems(2, dtype=torch.float64)
    bad = trains[1]
    trains[1] = type(bad)(bad.x, bad.y * 1e30, bad.levels)  # labels so large that the loss overflows in float64
    cfg = hl.JointConfig(width1=24, width2=10, epochs=6, checkpoints=4, lr=1e6)
    ok_cfg = dataclasses_replace(cfg, lr=1.0)
    runs = hl.train_joint_batch(trains, ok_cfg, [gen(1), gen(2)])
    alone = hl.train_joint(trains[0], ok_cfg, gen(1))
    _assert_same_run(runs[0], alone)
    assert runs[1].diverged and not runs[0].diverged


def test_batch_arguments_must_line_up():
    targets, trains, vals = _seed_problems(2)
    with pytest.raises(ValueError, match="generators"):
        hl.train_layerwise_batch(trains, small_layerwise(), [gen(1)])
    with pytest.raises(ValueError, match="targets"):
        hl.train_joint_batch(trains, hl.JointConfig(width1=8, epochs=1), [gen(1), gen(2)], targets=targets[:1])
