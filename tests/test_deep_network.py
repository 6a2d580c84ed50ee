"""Deep layerwise networks: gradients against autograd, frozen layers, the three-layer special case, overlaps."""

import dataclasses
import math

import pytest
import torch

import hight_lite as hl
from hight_lite.deep_network import DeepNetwork, deep_layer_gradient


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def deep_problem(n=300, dtype=torch.float64, standardize=True):
    """A deep SIGHT with L = 3 levels at d = 16: widths (4, 2, 1)."""
    cfg = hl.deep_target(16, (0.5, 0.25), standardize_levels=standardize)
    target = cfg.build(gen(0), dtype=dtype)
    return target, target.sample(n, gen(1)), target.sample(200, gen(2))


def small(widths=(24, 10, 8), epochs=None, **kw):
    if epochs is None:
        epochs = (3,) + (4,) * (len(widths) - 1) if isinstance(widths, tuple) else (3,)
    kw.setdefault("checkpoints", 3)
    return hl.DeepLayerwiseConfig(widths=widths, epochs=epochs, **kw)


@pytest.mark.parametrize("widths", [(12, 7), (12, 7, 5), (12, 7, 5, 6)])
@pytest.mark.parametrize("normalizer", [None, 1000])
def test_layer_gradients_match_autograd(widths, normalizer):
    _, train, _ = deep_problem(n=50)
    net = DeepNetwork.init(16, small(widths), gen(3), dtype=torch.float64)
    net.readout = net.readout * 10  # every layer's gradient sizeable
    params = [w.clone().requires_grad_(True) for w in net.weights]
    h = train.x
    for w, b in zip(params, net.biases):
        h = torch.relu(h @ w.T + b)
    sq = ((h @ net.readout - train.y) ** 2).sum() / 2
    autograd = torch.autograd.grad(sq, params)
    m = train.x.shape[0]
    for layer in range(1, len(widths) + 1):
        below = net.features(train.x, layer - 1)
        grad, loss = deep_layer_gradient(net, below, train.y, layer, normalizer)
        torch.testing.assert_close(grad, autograd[layer - 1] / (normalizer or m))
        torch.testing.assert_close(loss, 2 * sq.detach() / m)
    with pytest.raises(ValueError, match="layer must be"):
        deep_layer_gradient(net, train.x, train.y, len(widths) + 1)


def test_forward_pieces_agree():
    _, train, _ = deep_problem(n=40)
    net = DeepNetwork.init(16, small(), gen(4), dtype=torch.float64)
    pres = net.preactivations(train.x)
    assert [tuple(a.shape) for a in pres] == [(40, 24), (40, 10), (40, 8)]
    for layer in range(4):
        torch.testing.assert_close(net.output_from(net.features(train.x, layer), layer), net(train.x))
    torch.testing.assert_close(net.features(train.x), torch.relu(pres[-1]))


def test_two_hidden_layers_reproduce_the_three_layer_layerwise_protocol():
    target = hl.sight(16).build(gen(0), dtype=torch.float64)
    train, val = target.sample(300, gen(1)), target.sample(200, gen(2))
    three = hl.LayerwiseConfig(width1=24, width2=10, epochs1=3, epochs2=5, checkpoints=4)
    deep = hl.DeepLayerwiseConfig(widths=(24, 10), epochs=(3, 5), checkpoints=4)
    a = hl.train_layerwise(train, three, gen(5), target=target, validation=val)
    b = hl.train_deep_layerwise(train, deep, gen(5), target=target, validation=val)
    pairs = [(a.network.w1, b.network.weights[0]), (a.network.w2, b.network.weights[1]),
             (a.network.w3, b.network.readout), (a.network.b1, b.network.biases[0]), (a.network.b2, b.network.biases[1])]
    for x, y in pairs:
        assert torch.equal(x, y)  # the same draws, in the same order, and the same steps
    ha, hb = a.record.history, b.record.history
    assert len(ha) == len(hb)
    for col in ("step", "global_step", "train_loss", "validation_loss", "overlap_W_0"):
        assert ha[col].tolist() == hb[col].tolist()
    # layer 2 against the target's level 2 (for SIGHT its top, h*) is the three-layer M_h
    assert ha["overlap_h_0"].tolist() == pytest.approx(hb["overlap_h2_0"].tolist(), rel=1e-12)
    assert hb.stage.unique().tolist() == ["layer 1", "layer 2", "readout"]


def test_paper_constants_agree_with_the_three_layer_ones():
    deep = hl.DeepLayerwiseConfig.paper(32, 2048, 2)
    three = hl.LayerwiseConfig.paper(32, 2048)
    assert deep.widths == (three.width1, three.width2) and deep.epochs == (three.epochs1, three.epochs2)
    assert deep.gradient_scale(1) == math.sqrt(three.width1) / three.init_scale**2
    assert deep.gradient_scale(2) == math.sqrt(three.width2) / (three.init_scale * three.width1)
    assert deep.lr_factor(2) == three.second_layer_lr_factor
    four = hl.DeepLayerwiseConfig.paper(32, 2048, 3)
    assert four.widths == (three.width1, 100, 100) and four.epochs == (three.epochs1, three.epochs2, three.epochs2)
    # by default the three-layer exponents; compensating every random layer above: (3, 2, 1)
    assert [four.step_exponent(k) for k in (1, 2, 3)] == [2, 1, 1]
    compensated = dataclasses.replace(four, step_exponents=(3, 2, 1))
    assert compensated.gradient_scale(1) == pytest.approx(four.gradient_scale(1) / four.init_scale)
    assert compensated.gradient_scale(2) == pytest.approx(four.gradient_scale(2) / four.init_scale)
    assert compensated.gradient_scale(3) == four.gradient_scale(3)
    assert four.gradient_scale(3) == math.sqrt(100) / (four.init_scale * 100)


@pytest.mark.parametrize("frozen_stage", [1, 2, 3])
def test_each_stage_moves_only_its_layer(frozen_stage):
    _, train, _ = deep_problem()
    epochs = tuple(3 if k == frozen_stage else 0 for k in (1, 2, 3))
    cfg = small(epochs=epochs)
    net0 = DeepNetwork.init(16, cfg, gen(6), dtype=torch.float64)
    net = hl.train_deep_layerwise(train, cfg, gen(6)).network
    for k in (1, 2, 3):
        moved = not torch.equal(net.weights[k - 1], net0.weights[k - 1])
        assert moved == (k == frozen_stage), k
        assert torch.equal(net.biases[k - 1], net0.biases[k - 1])  # biases are never trained
    torch.testing.assert_close(net.readout, hl.ridge_solve(net.features(train.x), train.y, cfg.ridge))


def test_frozen_layers_keep_their_overlaps_and_features():
    target, train, val = deep_problem()
    result = hl.train_deep_layerwise(train, small(), gen(7), target=target, validation=val)
    h = result.record.history
    assert h.stage.unique().tolist() == ["layer 1", "layer 2", "layer 3", "readout"]
    after_one = h[h.stage != "layer 1"]
    assert after_one.overlap_W_0.nunique() == 1  # W_1 frozen after stage 1
    after_two = h[h.stage.isin(["layer 3", "readout"])]
    assert after_two.overlap_h2_0.nunique() == 1  # W_2 frozen after stage 2
    assert h.global_step.is_monotonic_increasing


def test_overlaps_at_initialisation_are_at_their_random_levels():
    cfg = hl.deep_target(64, (2 / 3, 1 / 3), standardize_levels=True)  # widths (16, 4, 1)
    target = cfg.build(gen(0), dtype=torch.float64)
    train = target.sample(100, gen(1))
    n_probe = 4000
    config = hl.DeepLayerwiseConfig(widths=(400, 200, 200), epochs=(0, 0, 0), checkpoints=2)
    first = hl.train_deep_layerwise(train, config, gen(2), target=target, n_probe=n_probe).record.rows[0]
    assert first["overlap_W_0"] == pytest.approx(hl.random_first_layer_overlap(64, 16), rel=0.1)
    # units unrelated to a level: the squared cosines with its D components add up to about D / n_probe
    assert hl.random_level_overlap(1, n_probe) == hl.random_second_layer_overlap(n_probe)
    for level, width in ((2, 4), (3, 1)):
        random = hl.random_level_overlap(width, n_probe)
        assert random == pytest.approx(math.sqrt(width / n_probe))
        assert 0.5 * random < first[f"overlap_h{level}_0"] < 3 * random, level


def test_level_overlap_against_independent_computations():
    g = gen(8)
    levels = torch.randn(3000, 4, generator=g, dtype=torch.float64)  # two branches of two components
    pre = torch.stack([levels[:, 0] + levels[:, 1], levels[:, 2], torch.randn(3000, generator=g, dtype=torch.float64)], 1)
    ov = hl.level_overlap(pre, levels, branches=2)
    # unit 0 lies in the span of branch 0 (squared cosines 1/2 + 1/2), unit 1 is component 2
    assert ov[0].item() == pytest.approx(math.sqrt(1 / 3), abs=0.03)
    assert ov[1].item() == pytest.approx(math.sqrt(1 / 3), abs=0.03)
    # one component per branch: the second-layer overlap M_h
    top = levels[:, :2]
    torch.testing.assert_close(hl.level_overlap(pre, top, branches=2), hl.second_layer_overlap(pre, top))
    with pytest.raises(ValueError, match="branches"):
        hl.level_overlap(pre, levels, branches=3)


def test_same_seed_same_numbers_and_seeds_matter():
    target, train, val = deep_problem(dtype=torch.float32)
    a = hl.train_deep_layerwise(train, small(), gen(9), target=target, validation=val)
    b = hl.train_deep_layerwise(train, small(), gen(9), target=target, validation=val)
    c = hl.train_deep_layerwise(train, small(), gen(10), target=target, validation=val)
    for x, y in zip(a.network.weights + [a.network.readout], b.network.weights + [b.network.readout]):
        assert torch.equal(x, y)
    assert a.record.history.equals(b.record.history)
    assert not torch.equal(a.network.weights[0], c.network.weights[0])


def test_a_short_run_reduces_the_training_loss():
    target = hl.deep_target(16, (0.5, 0.25), standardize_levels=True).build(gen(0))
    train = target.sample(512, gen(1))
    cfg = hl.DeepLayerwiseConfig.paper(16, 512, 3, epochs_coefficient=0.5)
    result = hl.train_deep_layerwise(train, cfg, gen(11), target=target)
    h = result.record.history
    assert not result.diverged
    assert h.train_loss.iloc[-1] < 0.8 * h.train_loss.iloc[0]
    for stage in ("layer 1", "layer 2"):
        s = h[h.stage == stage]
        assert s.train_loss.iloc[-1] < s.train_loss.iloc[0], stage


def test_fresh_data_per_stage():
    target, train, _ = deep_problem()
    fresh = [target.sample(300, gen(s)) for s in (20, 21, 22, 23)]
    a = hl.train_deep_layerwise(train, small(), gen(12))
    b = hl.train_deep_layerwise(fresh, small(), gen(12))
    assert not torch.equal(a.network.weights[0], b.network.weights[0])
    torch.testing.assert_close(b.network.readout, hl.ridge_solve(b.network.features(fresh[3].x), fresh[3].y, 1.0))
    with pytest.raises(ValueError, match="4, one per stage"):
        hl.train_deep_layerwise(fresh[:3], small(), gen(12))


def test_divergence_is_reported():
    _, train, _ = deep_problem(dtype=torch.float32)
    result = hl.train_deep_layerwise(train, small(lr=1e12, epochs=(5, 5, 5)), gen(13))
    assert result.diverged and result.record.diverged_stage is not None


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: small(widths=()), "widths must hold at least one"),
        (lambda: small(widths=(10, 0)), r"widths\[1\] must be an integer >= 1"),
        (lambda: small(widths=(10, 2.5)), r"widths\[1\] must be an integer >= 1"),
        (lambda: small(widths=10), "widths must be a tuple"),
        (lambda: small(epochs=(1, 1)), "epochs must have one entry per hidden layer"),
        (lambda: small(epochs=(1, -1, 1)), r"epochs\[1\] must be an integer >= 0"),
        (lambda: small(lr=0.0), "lr must be a finite number > 0"),
        (lambda: small(init_scale=-0.2), "init_scale must be"),
        (lambda: small(batch_fraction=1.5), r"batch_fraction must lie in \(0, 1\]"),
        (lambda: small(weight_decay2=-1.0), "weight_decay2 must be"),
        (lambda: small(later_lr_factor=0.0), "later_lr_factor must be"),
        (lambda: small(ridge=-1.0), "ridge must be a finite number >= 0"),
        (lambda: small(gradient_normalization="full"), "gradient_normalization must be"),
        (lambda: small(step_exponents=(2, 1)), "step_exponents must have one entry per hidden layer"),
        (lambda: small(step_exponents=(2, -1, 1)), r"step_exponents\[1\] must be an integer >= 0"),
        (lambda: small(checkpoints=1), "checkpoints must be an integer >= 2"),
        (lambda: hl.DeepLayerwiseConfig.paper(32, 1000, 0), "depth must be an integer >= 1"),
        (lambda: hl.train_deep_layerwise(deep_problem()[1], "config", gen(0)), "config must be a DeepLayerwiseConfig"),
    ],
)
def test_bad_config(make, match):
    with pytest.raises(ValueError, match=match):
        make()
