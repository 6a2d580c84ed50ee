"""The explorers of hight_lite.widgets, headless: default figures, updates, display and bad input."""

import base64
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.collections import PathCollection

pytest.importorskip("ipywidgets")

import hight_lite as hl  # noqa: E402
from hight_lite import widgets  # noqa: E402


def dashed_vertical_lines(ax):
    """x positions of the dashed vertical lines (axvline) of an axes."""
    out = []
    for line in ax.get_lines():
        x = np.asarray(line.get_xdata(), dtype=float)
        if line.get_linestyle() == "--" and len(x) == 2 and x[0] == x[1]:
            out.append(float(x[0]))
    return sorted(out)


def seed_points(ax):
    """y values of the scatter points (one per seed) of the right-hand panel."""
    return np.concatenate([c.get_offsets()[:, 1] for c in ax.collections if isinstance(c, PathCollection)])


def gaussian_mean(f, variance=1.0, order=300):
    """E[f(sqrt(variance) G)] with numpy's own Gauss-Hermite rule (independent of hight_lite)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    return float(np.dot(weights, f(math.sqrt(variance) * nodes)) / math.sqrt(2 * math.pi))


# ---- the target explorer ----------------------------------------------------------------

@pytest.fixture(scope="module")
def target():
    return widgets.target_explorer(d=64, n=4000, seed=3, d_values=[16, 64, 256])


def test_target_default_figure_matches_an_independent_sample(target):
    assert len(target.figure.axes) == 4
    samples, hist, p_axes, g_axes = target.figure.axes
    # the same teacher and inputs, drawn here by hand from the same seeds
    config = hl.sight(64)
    h = config.build(torch.Generator().manual_seed(3)).sample(4000, torch.Generator().manual_seed(4)).h[:, 0]
    h = h.double().numpy()
    window = 4.5 * math.sqrt(2 / 3)
    heights, _ = np.histogram(h[np.abs(h) < window], bins=60, density=True)
    bars = [p.get_height() for p in hist.patches]
    assert len(bars) == 60 and np.allclose(bars, heights)
    # the scatter shows (h*, y) pairs of that sample, y = tanh(3 h*)
    points = samples.collections[0].get_offsets()
    assert np.allclose(points[:, 0], h[: len(points)], atol=1e-6)
    assert np.allclose(points[:, 1], np.tanh(3 * points[:, 0]), atol=1e-5)
    # P = H2 + H3 (numerics convention) has orthonormal coefficients 1/sqrt(k!) at k = 2, 3
    assert np.allclose([p.get_height() for p in p_axes.patches], [0, 0, 1 / math.sqrt(2), 1 / math.sqrt(6)])
    # the link's coefficients on its Gaussian-limit input, by numpy's quadrature
    expected = [gaussian_mean(lambda g, k=k: np.tanh(3 * math.sqrt(2 / 3) * g)
                              * np.polynomial.hermite_e.hermeval(g, [0] * k + [1])) / math.sqrt(math.factorial(k))
                for k in range(9)]
    assert np.allclose([p.get_height() for p in g_axes.patches], expected, atol=2e-6)
    assert "d_{\\mathrm{eff}}$ = 8" in target.figure._suptitle.get_text()


def test_target_update_redraws_for_the_new_values(target):
    before = target.png()
    target.update(d=256, epsilon=0.4)
    try:
        assert target.sample.z.shape == (4000, hl.integer_power(256, 0.4))
        assert "d = 256" in target.figure._suptitle.get_text()
        assert target.png() != before
        # a control set directly redraws too: P = H2 + H4 has a degree-4 coefficient 1/sqrt(4!)
        target.controls["polynomial"].value = widgets.POLYNOMIALS["H2 + H4"]
        bars = [p.get_height() for p in target.figure.axes[2].patches]
        assert np.allclose(bars, [0, 0, 1 / math.sqrt(2), 0, 1 / math.sqrt(24)])
        assert target.status.value == ""
    finally:
        target.update(d=64, epsilon=0.5, polynomial="H2 + H3 (the paper)")


def test_target_bad_values_raise_and_leave_the_explorer_unchanged(target):
    before = target.values
    for bad, name in [(dict(epsilon=1.5), "epsilon"), (dict(d=100), "d"), (dict(polynomial="H7"), "polynomial"),
                      (dict(seed=-1), "seed"), (dict(width=3), "width")]:
        with pytest.raises(ValueError, match=name):
            target.update(**bad)
        assert target.values == before
    # a polynomial the package refuses (a linear part): the error names it, the values are restored
    linear = hl.HermitePolynomial.from_degrees({1: 1.0, 2: 1.0})
    with pytest.raises(ValueError, match="polynomial"):
        target.update(polynomial=linear)
    assert target.values == before
    # the same choice made on the control is reported in the status line instead
    target.controls["polynomial"].value = linear
    assert "polynomial" in target.status.value
    target.update(polynomial="H2 + H3 (the paper)")
    assert target.status.value == ""
    for kwargs in (dict(epsilon=0.95), dict(n=0), dict(d=63, d_values=[16, 64]), dict(link="cos")):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            widgets.target_explorer(**kwargs)


# ---- the phase-diagram explorer -------------------------------------------------------------

def test_phase_diagram_default_lines_and_levels():
    explorer = widgets.phase_diagram_explorer()
    (ax,) = explorer.figure.axes
    table = hl.sample_complexity_thresholds(hl.sight(4096))
    three = table[table.learner == "three-layer"].set_index("what is learned").kappa
    quadratic_in_h = table[table["what is learned"].str.contains("quadratic in h")].kappa.item()
    assert dashed_vertical_lines(ax) == pytest.approx(sorted({three["W*"], three["h* (second layer)"], quadratic_in_h}))
    assert dashed_vertical_lines(ax) == pytest.approx([1.5, 3.0])
    curves = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert set(curves) == {"kernel", "two-layer", "three-layer"}
    kappa = np.asarray(curves["three-layer"].get_xdata())
    error = np.asarray(curves["three-layer"].get_ydata())
    level = gaussian_mean(lambda g: np.tanh(3 * g) ** 2, variance=2 / 3)   # E[y^2], independently
    assert np.allclose(error[kappa < 1.5 - 1e-9], level, atol=2e-6)
    assert np.all(error[kappa >= 1.5] == 0)
    kernel = np.asarray(curves["kernel"].get_ydata())
    assert np.all(kernel[kappa >= 2] < kernel[0] - 0.1)                  # the kernel's quadratic step at κ = 2


def test_phase_diagram_threshold_lines_move_with_the_controls():
    explorer = widgets.phase_diagram_explorer()
    explorer.update(epsilon=0.4)
    (ax,) = explorer.figure.axes
    assert dashed_vertical_lines(ax) == pytest.approx([1.2, 1.4, 2.4])   # kε₁, 1 + ε₁, 2kε₁
    kappa, error = (np.asarray(v) for v in explorer.figure.axes[0].get_lines()[2].get_data())
    assert np.all(error[kappa >= 1.4] == 0) and np.all(error[kappa < 1.4] > 0)
    explorer.controls["k"].value = 4                                      # P = H2 + H4: h* at 4 ε₁ = 1.6
    assert dashed_vertical_lines(explorer.figure.axes[0]) == pytest.approx([1.4, 1.6, 3.2])
    assert explorer.config().polynomial == hl.HermitePolynomial.from_degrees({2: 1.0, 4: 1.0})


def test_phase_diagram_bad_values():
    explorer = widgets.phase_diagram_explorer()
    for bad, name in [(dict(epsilon=0.05), "epsilon"), (dict(k=7), "k"), (dict(k=3.5), "k"),
                      (dict(link="relu"), "link")]:
        with pytest.raises(ValueError, match=name):
            explorer.update(**bad)
    assert explorer.values["epsilon"] == 0.5 and explorer.values["k"] == 3
    for kwargs in (dict(epsilon=1.0), dict(k=1), dict(kappa_max=0.5), dict(points=2)):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            widgets.phase_diagram_explorer(**kwargs)
    with pytest.raises(ValueError, match="k"):
        widgets.phase_diagram_polynomial(1)


# ---- the sweep explorer ------------------------------------------------------------------

@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    learners = {"kernel": hl.KernelConfig(), "two-layer": hl.TwoLayerConfig(width=8, epochs=3, checkpoints=3)}
    tasks = hl.make_tasks(hl.sight(8), learners, kappas=[1.0, 1.8], seeds=2, n_validation=20, n_test=100)
    return hl.run_sweep(tasks, cache_dir=tmp_path_factory.mktemp("cache"), progress=False)


def test_sweep_default_figure_shows_medians_and_seeds(sweep):
    explorer = widgets.sweep_explorer(sweep, threshold=1.5, levels={"test_error": {"random": 0.6}})
    ax, ax_seeds = explorer.figure.axes
    table = sweep.table[sweep.table.metric == "test_error"]
    medians = table.groupby(["learner", "kappa"]).value.median()
    lines = {line.get_label(): line for line in ax.get_lines()}
    for learner in ("kernel", "two-layer"):
        assert np.allclose(lines[learner].get_ydata(), medians[learner].to_numpy())
    assert np.allclose(lines["random"].get_ydata(), 0.6)
    assert dashed_vertical_lines(ax) == [1.5]
    seeds = seed_points(ax_seeds)
    assert sorted(seeds) == pytest.approx(sorted(table[table.kappa == 1.8].value))
    html = explorer._extra_outputs()[0]["text/html"]
    assert f"{medians['kernel'][1.8]:.4f}" in html


def test_sweep_controls_change_the_figure(sweep):
    explorer = widgets.sweep_explorer(sweep)
    explorer.update(kappa=1.0, learners=["kernel"])
    table = sweep.table
    seeds = seed_points(explorer.figure.axes[1])
    expected = table[(table.metric == "test_error") & (table.kappa == 1.0) & (table.learner == "kernel")].value
    assert sorted(seeds) == pytest.approx(sorted(expected))
    explorer.update(learners=["kernel", "two-layer"])
    explorer.controls["metric"].value = "overlap_W_0"                    # kernels have no overlap
    assert list(explorer.table.learner.unique()) == ["two-layer"]
    assert explorer.figure.axes[0].get_ylabel().startswith("overlap_W_0")
    explorer.controls["yscale"].value = "log"
    assert explorer.figure.axes[0].get_yscale() == "log"


def test_sweep_bad_values(sweep):
    explorer = widgets.sweep_explorer(sweep)
    for bad, name in [(dict(kappa=1.3), "kappa"), (dict(metric="accuracy"), "metric"), (dict(learners=()), "learners"),
                      (dict(learners=["joint"]), "learners"), (dict(yscale="symlog"), "yscale")]:
        with pytest.raises(ValueError, match=name):
            explorer.update(**bad)
    for kwargs in (dict(metric="accuracy"), dict(learners=["joint"]), dict(kappa=2.0), dict(threshold="1.5"),
                   dict(levels={"accuracy": {"x": 1.0}})):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            widgets.sweep_explorer(sweep, **kwargs)
    with pytest.raises(ValueError, match="sweep"):
        widgets.sweep_explorer(sweep.table)


# ---- display: a static figure, updated in place -------------------------------------------

def test_display_shows_the_figure_as_an_image_and_updates_it(monkeypatch):
    import IPython.display

    shown, updates = [], []

    class Handle:
        def __init__(self, display_id):
            self.display_id = display_id

    def fake_display(obj, raw=False, display_id=None):
        shown.append(obj)
        return Handle(f"id{len(shown)}") if display_id else None

    monkeypatch.setattr(IPython.display, "display", fake_display)
    monkeypatch.setattr(IPython.display, "update_display", lambda obj, raw, display_id: updates.append((display_id, obj)))
    figures_before = plt.get_fignums()
    explorer = widgets.phase_diagram_explorer()
    assert plt.get_fignums() == figures_before      # not a pyplot figure: the inline backend will not show it again
    explorer._ipython_display_()
    assert shown[0] is explorer.widget
    png = base64.b64decode(shown[1]["image/png"])
    assert png.startswith(b"\x89PNG") and png == explorer.png()
    explorer.update(epsilon=0.3)
    assert [display_id for display_id, _ in updates] == ["id2"]
    assert updates[0][1]["image/png"] != shown[1]["image/png"]
    assert "epsilon=0.3" in updates[0][1]["text/plain"]
