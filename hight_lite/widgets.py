r"""Interactive explorers for the book (ipywidgets + matplotlib), with a static figure at their defaults.

Three explorers, each a function returning an :class:`Explorer`:

* :func:`target_explorer`: a SIGHT for chosen ``d``, ``ε``, ``P`` and ``g*`` — samples of
  ``y`` against ``h*``, the histogram of ``h*`` against its Gaussian limit, and the Hermite
  coefficients of ``P`` and of the link;
* :func:`phase_diagram_explorer`: the paper's Fig. 3 (error of each learner against κ in the
  limit of large ``d``) for chosen ``ε₁``, degree ``k`` of ``P = H_2 + H_k`` and link, with the
  κ thresholds of :func:`~hight_lite.theory.sample_complexity_thresholds` as vertical lines;
* :func:`sweep_explorer`: a :class:`~hight_lite.sweep.SweepResult` — medians and quartiles of
  a chosen metric against κ per learner, every seed's value at a chosen κ, and the table of
  medians.

Every number comes from the package (targets, theory, plots, sweeps); this module only
wires controls to figures.

**Static and live.** The figure is drawn when the explorer is created and is displayed as
an ordinary ``image/png`` output, next to the controls. A notebook executed without a live
kernel (the online book) therefore shows the figure at the default values. With a live
kernel, moving a control redraws the figure and replaces that same output (a display
update), so nothing is shown twice.

**Programmatic use.** ``explorer.update(epsilon=0.4)`` checks the values (a ``ValueError``
names the parameter and the allowed values), sets the controls and redraws once; setting
``explorer.controls["epsilon"].value`` redraws too (a bad combination is then reported in
``explorer.status`` instead of raising). ``explorer.figure`` is the current
:class:`matplotlib.figure.Figure`.

ipywidgets is an optional dependency (``pip install hight_lite[widgets]``), so this module
is not imported by ``import hight_lite``; use ``from hight_lite import widgets``.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

try:
    import ipywidgets
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError("hight_lite.widgets needs ipywidgets: pip install 'hight_lite[widgets]' (or ipywidgets>=8)") from error

from .hermite import HermitePolynomial, hermite_coefficients, information_exponent
from .links import Identity, Parity, Tanh
from .plots import plot_gaussian_fit, plot_hermite_coefficients, plot_phase_diagram, plot_sweep_metric
from .sweep import SweepResult
from .targets import TargetConfig, sight
from .theory import gaussian_limit_variances, phase_diagram, random_level, sample_complexity_thresholds

__all__ = [
    "Explorer",
    "LINKS",
    "POLYNOMIALS",
    "phase_diagram_explorer",
    "phase_diagram_polynomial",
    "sweep_explorer",
    "target_explorer",
]

#: The polynomials ``P`` offered by :func:`target_explorer` (numerics convention, all with
#: ``E[P] = 0`` and no linear part, as the theory requires).
POLYNOMIALS: dict[str, HermitePolynomial] = {
    "H2 + H3 (the paper)": HermitePolynomial.from_degrees({2: 1.0, 3: 1.0}),
    "H2": HermitePolynomial.from_degrees({2: 1.0}),
    "H3": HermitePolynomial.from_degrees({3: 1.0}),
    "H2 + H4": HermitePolynomial.from_degrees({2: 1.0, 4: 1.0}),
    "H3 + H4": HermitePolynomial.from_degrees({3: 1.0, 4: 1.0}),
}

#: The links ``g*`` offered by the explorers, for one top-level feature.
LINKS: dict[str, Callable] = {
    "tanh(3h) (the paper)": Tanh(3.0),
    "tanh(h)": Tanh(1.0),
    "h (identity)": Identity(),
    "sign(h)": Parity(),
}

#: Placeholder input dimension of the configurations the phase diagram is computed for: the
#: diagram is the limit d → ∞ and depends on ε₁, P and g* only.
_LIMIT_D = 10**6

#: Largest number of points drawn in a scatter plot (the histogram uses every sample).
_MAX_SCATTER = 4000


def phase_diagram_polynomial(k: int) -> HermitePolynomial:
    r""":math:`P = H_2 + H_k` (numerics convention) for ``k >= 3``, :math:`P = H_2` for ``k = 2``.

    Information exponent 2 and degree ``k``: the polynomial the phase-diagram explorer
    uses for its degree control (``k = 3`` is the paper's :math:`P_3`).
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k (the degree of P) must be an integer >= 2, got {k!r}")
    return HermitePolynomial.from_degrees({2: 1.0, int(k): 1.0})


def _figure_bundle(figure: Figure, text: str) -> dict[str, Any]:
    """An ``image/png`` + ``text/plain`` display bundle of ``figure``."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi, bbox_inches="tight")
    return {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": text}


class Explorer:
    """Controls wired to a matplotlib figure (see the module's docstring).

    Subclasses define :meth:`_draw` (which clears and redraws :attr:`figure` from the
    current :attr:`values`, raising ``ValueError`` on an impossible combination) and may
    define :meth:`_check` (per-parameter checks) and :meth:`_extra_outputs` (further
    displayed outputs, e.g. a table, updated with the figure).

    Attributes:
        controls: the widgets, by parameter name.
        figure: the current figure.
        status: a line of text under the controls (the last problem, if any).
        widget: the box of controls and status line.
    """

    name = "explorer"

    def __init__(self, controls: dict[str, ipywidgets.ValueWidget], figsize: tuple[float, float]):
        self.controls = controls
        self.figure = Figure(figsize=figsize, layout="constrained")
        self.status = ipywidgets.HTML(value="")
        self.widget = ipywidgets.VBox([ipywidgets.HBox(list(controls.values()), layout={"flex_flow": "row wrap"}),
                                       self.status])
        self._display_ids: list[tuple[str, str]] = []  # (kind, display id) of every output shown
        self._quiet = False
        self._drawn_values: dict[str, Any] = {}
        self._draw(**self.values)  # a bad default raises here, with the parameter named
        self._drawn_values = self.values
        for control in controls.values():
            control.observe(self._on_change, names="value")

    # ---- state ---------------------------------------------------------------------------
    @property
    def values(self) -> dict[str, Any]:
        """The current value of every control."""
        return {name: control.value for name, control in self.controls.items()}

    def _check(self, name: str, value: Any) -> Any:
        """Check one value (raise ``ValueError`` naming ``name``) and return it as the control wants it."""
        control = self.controls[name]
        options = getattr(control, "options", None)
        if options is not None and not isinstance(control, ipywidgets.SelectMultiple):
            allowed = [o[1] if isinstance(o, tuple) else o for o in options]
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
            return value
        low, high = getattr(control, "min", None), getattr(control, "max", None)
        if low is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
            if isinstance(control, (ipywidgets.IntSlider, ipywidgets.BoundedIntText)) and int(value) != value:
                raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
            if not low <= value <= high:
                raise ValueError(f"{name} must lie in [{low}, {high}], got {value!r}")
        return value

    def update(self, **values) -> "Explorer":
        """Set several controls at once and redraw once.

        Raises:
            ValueError: an unknown parameter, a value out of its range, or a combination
                the package refuses (the controls then keep their previous values).
        """
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; the controls are {list(self.controls)}")
        checked = {name: self._check(name, value) for name, value in values.items()}
        previous = self.values
        try:
            self._set(checked)
            self._redraw()
        except ValueError:
            self._set(previous)
            self._redraw()
            raise
        self.status.value = ""
        return self

    def _set(self, values: Mapping[str, Any]) -> None:
        self._quiet = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._quiet = False

    def _on_change(self, change) -> None:
        if self._quiet:
            return
        try:
            self._redraw()
            self.status.value = ""
        except ValueError as error:  # from a control: report it, keep the last good figure
            self.status.value = f"<span style='color:#b00'>{error}</span>"
            self._draw(**self._drawn_values)

    def _redraw(self) -> None:
        values = self.values
        self._draw(**values)
        self._drawn_values = values
        self._publish(update=True)

    # ---- drawing ---------------------------------------------------------------------------
    def _draw(self, **values) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _extra_outputs(self) -> list[dict[str, Any]]:
        """Further display bundles shown after the figure (none by default)."""
        return []

    def describe(self) -> str:
        """One line: the explorer and its current values."""
        shown = ", ".join(f"{k}={_short(v)}" for k, v in self.values.items())
        return f"<{self.name}: {shown}>"

    def png(self) -> bytes:
        """The current figure as PNG bytes."""
        return base64.b64decode(_figure_bundle(self.figure, "")["image/png"])

    # ---- display -----------------------------------------------------------------------------
    def _bundles(self) -> list[tuple[str, dict[str, Any]]]:
        return [("figure", _figure_bundle(self.figure, self.describe()))] + [
            (f"extra{i}", b) for i, b in enumerate(self._extra_outputs())
        ]

    def _publish(self, update: bool) -> None:
        if not self._display_ids:
            return
        from IPython.display import update_display

        bundles = dict(self._bundles())
        for kind, display_id in self._display_ids:
            if kind in bundles:
                update_display(bundles[kind], raw=True, display_id=display_id)

    def _ipython_display_(self) -> None:
        """Show the controls, then the figure (and extra outputs) as ordinary outputs."""
        from IPython.display import display

        display(self.widget)
        for kind, bundle in self._bundles():
            handle = display(bundle, raw=True, display_id=True)
            if handle is not None:
                self._display_ids.append((kind, handle.display_id))

    def __repr__(self) -> str:
        return self.describe()


def _short(value: Any) -> str:
    for label, link in LINKS.items():
        if type(link) is type(value) and link == value:
            return label.replace(" (the paper)", "")
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return str(value)


def _option_pairs(options: Mapping[str, Any], chosen: Any) -> tuple[list[tuple[str, Any]], Any]:
    """Dropdown (label, value) pairs; ``chosen`` may be a label, a value, or a new value to add."""
    pairs = list(options.items())
    if isinstance(chosen, str):
        if chosen not in options:
            raise ValueError(f"unknown choice {chosen!r}; the choices are {list(options)}")
        return pairs, options[chosen]
    if not any(value == chosen for _, value in pairs):
        pairs.append((str(chosen), chosen))
    return pairs, chosen


class _TargetExplorer(Explorer):
    name = "target explorer"

    def __init__(self, d_values, d, epsilon, polynomial, link, n, seed):
        self.n = n
        polys, polynomial = _option_pairs(POLYNOMIALS, polynomial)
        links, link = _option_pairs(LINKS, link)
        style = {"description_width": "initial"}
        controls = {
            "d": ipywidgets.SelectionSlider(options=list(d_values), value=d, description="d",
                                            continuous_update=False, style=style),
            "epsilon": ipywidgets.FloatSlider(value=epsilon, min=0.1, max=0.9, step=0.05, description="ε",
                                              continuous_update=False, readout_format=".2f", style=style),
            "polynomial": ipywidgets.Dropdown(options=polys, value=polynomial, description="P", style=style),
            "link": ipywidgets.Dropdown(options=links, value=link, description="g*", style=style),
            "seed": ipywidgets.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="teacher seed",
                                              style=style, layout={"width": "170px"}),
        }
        super().__init__(controls, figsize=(16, 3.9))

    def _check(self, name, value):
        if name in ("polynomial", "link") and not isinstance(value, str):
            control = self.controls[name]
            if not any(v == value for _, v in control.options):  # a new P or g*: offer it
                control.options = list(control.options) + [(str(value), value)]
            return value
        if name in ("polynomial", "link"):
            table = POLYNOMIALS if name == "polynomial" else LINKS
            if value not in table:
                raise ValueError(f"{name} must be one of {list(table)} or a {'HermitePolynomial' if name == 'polynomial' else 'link'}, got {value!r}")
            return table[value]
        return super()._check(name, value)

    def config(self) -> TargetConfig:
        """The target the controls describe (raises ``ValueError`` if the package refuses it)."""
        v = self.values
        return sight(int(v["d"]), epsilon=float(v["epsilon"]), polynomial=v["polynomial"], link=v["link"])

    def _draw(self, d, epsilon, polynomial, link, seed) -> None:
        config = sight(int(d), epsilon=float(epsilon), polynomial=polynomial, link=link)
        self.target = config.build(torch.Generator().manual_seed(int(seed)))
        self.sample = self.target.sample(self.n, torch.Generator().manual_seed(int(seed) + 1))
        v_top = gaussian_limit_variances(config)[-1]
        self.level = random_level(config)
        h, y = self.sample.h[:, 0].double().numpy(), self.sample.y.double().numpy()

        self.figure.clear()
        ax_samples, ax_hist, ax_p, ax_g = self.figure.subplots(1, 4)
        shown = slice(0, min(len(h), _MAX_SCATTER))
        ax_samples.scatter(h[shown], y[shown], s=3, alpha=0.3, color="C0", rasterized=True,
                           label=f"{shown.stop} samples")
        grid = np.linspace(*np.quantile(h, [0.001, 0.999]), 300)
        ax_samples.plot(grid, np.asarray(config.link(grid[:, None]), dtype=float), "k", lw=1.5, label="$g^\\star(h)$")
        ax_samples.set_xlim(grid[0], grid[-1])
        ax_samples.set_xlabel("$h^\\star$")
        ax_samples.set_ylabel("$y$")
        ax_samples.set_title(f"samples; random level $\\mathbb{{E}}[y^2]$ = {self.level:.3f} (d → ∞)", fontsize=10)
        ax_samples.legend(frameon=False, fontsize=8)

        window = 4.5 * math.sqrt(v_top)
        inside = np.abs(h) < window
        plot_gaussian_fit(h[inside], v_top, ax=ax_hist, label=f"$h^\\star$ ({len(h)} samples)")
        excess = float(np.mean(h**4) / np.mean(h**2) ** 2 - 3)
        ax_hist.set_xlim(-window, window)
        ax_hist.legend(frameon=False, fontsize=8, loc="upper left")
        ax_hist.set_xlabel("$h^\\star$")
        ax_hist.set_title(f"$h^\\star$: excess kurtosis {excess:.2f} ({100 * (1 - inside.mean()):.2f}% outside)",
                          fontsize=10)

        p_orthonormal = np.array(config.polynomial.to_convention("orthonormal").coefficients)
        plot_hermite_coefficients(p_orthonormal, ax=ax_p)
        ax_p.set_title(f"$P$ = {config.polynomial}: orthonormal coefficients\n"
                       f"$\\mathbb{{E}}[P^2]$ = {config.polynomial.second_moment:.3f}, "
                       f"information exponent {config.polynomial.information_exponent}", fontsize=10)

        def link_on_limit(u):
            return np.asarray(config.link(math.sqrt(v_top) * np.asarray(u)[:, None]), dtype=float)

        self.link_coefficients = hermite_coefficients(link_on_limit, 8, "orthonormal")
        plot_hermite_coefficients(self.link_coefficients, ax=ax_g)
        ie = information_exponent(link_on_limit)
        ax_g.set_title(f"$g^\\star(\\sqrt{{v}}\\,G)$, $v = \\mathbb{{E}}[P^2]$: coefficients\n"
                       f"information exponent {ie}", fontsize=10)
        self.figure.suptitle(f"SIGHT: d = {config.d}, ε = {config.epsilons[0]:.2f}, "
                             f"$d_{{\\mathrm{{eff}}}}$ = {config.d_eff}, g* = {_short(config.link)}", fontsize=11)


def target_explorer(
    d: int | None = None,
    epsilon: float = 0.5,
    polynomial: str | HermitePolynomial = "H2 + H3 (the paper)",
    link: str | Callable = "tanh(3h) (the paper)",
    n: int | None = None,
    seed: int = 0,
    d_values: Sequence[int] | None = None,
) -> Explorer:
    r"""Explore a SIGHT: ``(d, ε, P, g*)`` → samples, the histogram of ``h*``, Hermite coefficients.

    Panels: ``y`` against ``h*`` on ``n`` samples with the link drawn over them; the
    histogram of ``h*`` against :math:`\mathcal{N}(0, \mathbb{E}[P^2])` (the Gaussian limit;
    :func:`~hight_lite.plots.plot_gaussian_fit`); the orthonormal Hermite coefficients of
    ``P``; those of :math:`u \mapsto g^\star(\sqrt{v}\,u)`, the link on its Gaussian-limit input.

    Args:
        d: input dimension (default: the preset's ``d``); one of ``d_values``.
        epsilon: ε in [0.1, 0.9].
        polynomial: a name of :data:`POLYNOMIALS` or any :class:`~hight_lite.hermite.HermitePolynomial`.
        link: a name of :data:`LINKS` or any link for one top feature.
        n: samples drawn (default: the preset's ``n_illustration``).
        seed: the teacher is drawn from ``seed``, the inputs from ``seed + 1``.
        d_values: the choices of ``d`` (default: the preset's ``d_grid`` and ``d``).
    """
    from .presets import get_preset

    preset = get_preset()
    d = preset.d if d is None else d
    n = preset.n_illustration if n is None else n
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 10:
        raise ValueError(f"n must be an integer >= 10, got {n!r}")
    d_values = sorted(set(preset.d_grid) | {preset.d} if d_values is None else set(d_values))
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2 for v in d_values):
        raise ValueError(f"d_values must be integers >= 2, got {d_values!r}")
    if d not in d_values:
        raise ValueError(f"d must be one of {d_values}, got {d!r}")
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0.1 <= epsilon <= 0.9:
        raise ValueError(f"epsilon must lie in [0.1, 0.9], got {epsilon!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**31:
        raise ValueError(f"seed must be an integer in [0, 2**31 - 1], got {seed!r}")
    for name, value, table in (("polynomial", polynomial, POLYNOMIALS), ("link", link, LINKS)):
        if isinstance(value, str) and value not in table:
            raise ValueError(f"{name} must be one of {list(table)}, got {value!r}")
    return _TargetExplorer(d_values, d, float(epsilon), polynomial, link, int(n), int(seed))


class _PhaseDiagramExplorer(Explorer):
    name = "phase-diagram explorer"

    def __init__(self, epsilon, k, link, kappa_max, points):
        self.kappas = np.linspace(0.0, kappa_max, points)
        links, link = _option_pairs(LINKS, link)
        style = {"description_width": "initial"}
        controls = {
            "epsilon": ipywidgets.FloatSlider(value=epsilon, min=0.1, max=0.9, step=0.05, description="ε₁",
                                              continuous_update=False, readout_format=".2f", style=style),
            "k": ipywidgets.IntSlider(value=k, min=2, max=6, description="k (P = H₂ + H_k)",
                                      continuous_update=False, style=style),
            "link": ipywidgets.Dropdown(options=links, value=link, description="g*", style=style),
        }
        super().__init__(controls, figsize=(10, 4.6))

    def _check(self, name, value):
        if name == "link":
            if isinstance(value, str):
                if value not in LINKS:
                    raise ValueError(f"link must be one of {list(LINKS)} or a link function, got {value!r}")
                return LINKS[value]
            control = self.controls["link"]
            if not any(v == value for _, v in control.options):
                control.options = list(control.options) + [(str(value), value)]
            return value
        return super()._check(name, value)

    def config(self) -> TargetConfig:
        """The (limit) target the controls describe."""
        v = self.values
        return sight(_LIMIT_D, epsilon=float(v["epsilon"]), polynomial=phase_diagram_polynomial(v["k"]), link=v["link"])

    def _draw(self, epsilon, k, link) -> None:
        config = sight(_LIMIT_D, epsilon=float(epsilon), polynomial=phase_diagram_polynomial(k), link=link)
        self.table = phase_diagram(config, self.kappas)
        self.thresholds = _phase_thresholds(sample_complexity_thresholds(config), self.kappas[-1])
        level = random_level(config)
        self.figure.clear()
        ax = self.figure.subplots()
        ax.set_xlim(self.kappas[0], self.kappas[-1])
        ax.set_ylim(-0.02 * level, 1.5 * level)   # room above the curves for the threshold labels
        plot_phase_diagram(self.table, ax=ax, thresholds=self.thresholds)
        ax.axhline(level, color="0.5", ls=":", lw=1)
        ax.text(0.02, level, "random level $\\mathbb{E}[y^2]$", va="bottom", fontsize=8, color="0.3")
        ax.legend(frameon=False, loc="center left")
        kappa_star = max(1 + float(epsilon), int(k) * float(epsilon))
        ax.set_title(f"Fig. 3: ε₁ = {float(epsilon):.2f}, P = {config.polynomial}, g* = {_short(config.link)};  "
                     f"three-layer κ* = max(1 + ε₁, kε₁) = {kappa_star:.2f}", fontsize=10)


def _phase_thresholds(table: pd.DataFrame, kappa_max: float) -> dict[str, float]:
    """Vertical lines for the phase diagram, from a :func:`sample_complexity_thresholds` table.

    The three-layer network's two thresholds (``W*`` at 1 + ε₁, ``h*`` at kε₁), then the
    steps of the two-layer staircase that fall elsewhere; labels at one κ are joined.
    """
    lines: dict[float, dict[str, list[str]]] = {}
    three = table[table.learner == "three-layer"]
    for what, kappa in zip(three["what is learned"], three["kappa"]):
        if not what.startswith("f*") and kappa <= kappa_max:
            lines.setdefault(round(float(kappa), 12), {}).setdefault("three-layer", []).append(what.split(" (")[0])
    taken = set(lines)
    two = table[table.learner == "two-layer"]
    for what, kappa in zip(two["what is learned"], two["kappa"]):
        key = round(float(kappa), 12)
        if "approximation" in what and key not in taken and kappa <= kappa_max:
            lines.setdefault(key, {}).setdefault("two-layer", []).append(what.split(" approximation")[0] + " in z")
    return {"; ".join(f"{learner}: {', '.join(whats)}" for learner, whats in by_learner.items()): kappa
            for kappa, by_learner in sorted(lines.items())}


def phase_diagram_explorer(
    epsilon: float = 0.5,
    k: int = 3,
    link: str | Callable = "tanh(3h) (the paper)",
    kappa_max: float = 3.5,
    points: int = 701,
) -> Explorer:
    r"""Explore the phase diagram (Fig. 3): ``(ε₁, k, g*)`` → the error of each learner against κ.

    The target is a SIGHT with :math:`P = H_2 + H_k` (:func:`phase_diagram_polynomial`) in
    the limit of large ``d``; the curves are :func:`~hight_lite.theory.phase_diagram` drawn by
    :func:`~hight_lite.plots.plot_phase_diagram`, the dashed vertical lines the κ of
    :func:`~hight_lite.theory.sample_complexity_thresholds` for the two- and three-layer
    networks, the dotted horizontal line :func:`~hight_lite.theory.random_level`.

    Args:
        epsilon: ε₁ in [0.1, 0.9].
        k: the degree of ``P``, in [2, 6].
        link: a name of :data:`LINKS` or any link for one top feature.
        kappa_max: the κ axis runs over ``[0, kappa_max]``.
        points: κ values computed on that axis.
    """
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0.1 <= epsilon <= 0.9:
        raise ValueError(f"epsilon must lie in [0.1, 0.9], got {epsilon!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= 6:
        raise ValueError(f"k must be an integer in [2, 6], got {k!r}")
    if isinstance(link, str) and link not in LINKS:
        raise ValueError(f"link must be one of {list(LINKS)}, got {link!r}")
    if isinstance(kappa_max, bool) or not isinstance(kappa_max, (int, float)) or not 1.0 < kappa_max <= 10.0:
        raise ValueError(f"kappa_max must lie in (1, 10], got {kappa_max!r}")
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 10:
        raise ValueError(f"points must be an integer >= 10, got {points!r}")
    return _PhaseDiagramExplorer(float(epsilon), int(k), link, float(kappa_max), int(points))


class _SweepExplorer(Explorer):
    name = "sweep explorer"

    def __init__(self, sweep, metric, learners, kappa, threshold, levels):
        self.sweep = sweep
        self.threshold = threshold
        self.levels = levels
        self._table = sweep.table
        metrics = list(dict.fromkeys(self._table.metric))
        all_learners = list(dict.fromkeys(self._table.learner))
        kappas = sorted(set(self._table.kappa))
        style = {"description_width": "initial"}
        controls = {
            "metric": ipywidgets.Dropdown(options=metrics, value=metric, description="metric", style=style),
            "learners": ipywidgets.SelectMultiple(options=all_learners, value=tuple(learners), description="learners",
                                                  rows=min(len(all_learners), 5), style=style),
            "kappa": ipywidgets.SelectionSlider(options=kappas, value=kappa, description="κ (right panel)",
                                                continuous_update=False, style=style),
            "yscale": ipywidgets.ToggleButtons(options=["linear", "log"], value="linear", description="y axis",
                                               style=style),
        }
        super().__init__(controls, figsize=(14, 4.6))

    def _check(self, name, value):
        if name == "learners":
            allowed = list(self.controls["learners"].options)
            value = (value,) if isinstance(value, str) else tuple(value)
            if not value or any(v not in allowed for v in value):
                raise ValueError(f"learners must be a non-empty selection of {allowed}, got {value!r}")
            return value
        if name == "kappa":
            allowed = list(self.controls["kappa"].options)
            match = [k for k in allowed if isinstance(value, (int, float)) and math.isclose(k, value, abs_tol=1e-9)]
            if not match:
                raise ValueError(f"kappa must be one of the sweep's κ {allowed}, got {value!r}")
            return match[0]
        return super()._check(name, value)

    def _draw(self, metric, learners, kappa, yscale) -> None:
        if not learners:
            raise ValueError("learners must select at least one learner")
        summary = self.sweep.summary(metric)
        summary = summary[summary.learner.isin(learners)]
        if summary.empty:
            raise ValueError(f"no learner among {list(learners)} records the metric {metric!r}")
        self.summary = summary
        self.figure.clear()
        ax, ax_seeds = self.figure.subplots(1, 2, width_ratios=[1.6, 1])
        plot_sweep_metric(summary, ax=ax, levels=(self.levels or {}).get(metric), threshold=self.threshold)
        ax.axvline(kappa, color="0.5", ls=":", lw=1.5)
        ax.set_ylabel(f"{metric} (median over seeds, quartile band)")
        ax.set_yscale(yscale)
        ax.set_title(f"{metric} against κ, d = {', '.join(str(d) for d in sorted(set(self._table.d)))}", fontsize=10)

        rows = self._table[(self._table.metric == metric) & (self._table.learner.isin(learners))
                           & np.isclose(self._table.kappa, kappa)]
        self.seed_values = rows[["learner", "seed", "value", "diverged"]].reset_index(drop=True)
        order = [name for name in learners if name in set(rows.learner)]
        palette = {"kernel": "C1", "two-layer": "C2", "layerwise": "C0", "joint": "C3"}
        for i, name in enumerate(order):
            values = rows[rows.learner == name].value.to_numpy()
            ok = values[np.isfinite(values)]
            ax_seeds.scatter(np.full(len(ok), i) + np.linspace(-0.12, 0.12, max(len(ok), 1))[: len(ok)], ok,
                             color=palette.get(name, f"C{4 + i}"), s=30, zorder=3, label=name)
            if len(ok):
                ax_seeds.hlines(np.median(ok), i - 0.25, i + 0.25, color="k", lw=2, zorder=4)
        ax_seeds.set_xticks(range(len(order)), order)
        ax_seeds.set_xlim(-0.6, len(order) - 0.4)
        ax_seeds.set_yscale(yscale)
        n = int(rows.n.iloc[0]) if len(rows) else 0
        ax_seeds.set_title(f"every seed at κ = {kappa:g} (n = {n}); bar: median", fontsize=10)
        ax_seeds.set_ylabel(metric)

    def _extra_outputs(self):
        pivot = self.summary.pivot(index="kappa", columns="learner", values="median")
        pivot.insert(0, "n", self.summary.groupby("kappa").n.first())
        pivot.columns.name = f"median {self.values['metric']}"
        return [{"text/html": pivot.round(4).to_html(), "text/plain": pivot.round(4).to_string()}]

    @property
    def table(self) -> pd.DataFrame:
        """The summary rows (``SweepResult.summary``) of the chosen metric and learners."""
        return self.summary


def sweep_explorer(
    sweep: SweepResult,
    metric: str = "test_error",
    learners: Sequence[str] | None = None,
    kappa: float | None = None,
    threshold: float | None = None,
    levels: Mapping[str, Mapping[str, float]] | None = None,
) -> Explorer:
    """Explore a sweep's results: a metric against κ per learner, every seed at one κ, the medians.

    Args:
        sweep: from :func:`~hight_lite.sweep.run_sweep`.
        metric: one of the metrics of ``sweep.table`` (``test_error``, ``overlap_W_0``, ...).
        learners: the learners shown at first (default: all).
        kappa: the κ whose seeds the right panel shows (default: the largest).
        threshold: a κ drawn as a dashed vertical line (e.g. ``1 + ε₁``).
        levels: per metric, horizontal reference lines ``{label: value}`` (e.g. theory plateaus).
    """
    if not isinstance(sweep, SweepResult):
        raise ValueError(f"sweep must be a SweepResult (from hl.run_sweep), got {type(sweep).__name__}")
    if not sweep.results:
        raise ValueError("sweep must hold at least one result")
    table = sweep.table
    metrics = list(dict.fromkeys(table.metric))
    if metric not in metrics:
        raise ValueError(f"metric must be one of {metrics}, got {metric!r}")
    all_learners = list(dict.fromkeys(table.learner))
    learners = tuple(all_learners if learners is None else ([learners] if isinstance(learners, str) else learners))
    if not learners or any(name not in all_learners for name in learners):
        raise ValueError(f"learners must be a non-empty selection of {all_learners}, got {learners!r}")
    kappas = sorted(set(table.kappa))
    if kappa is None:
        kappa = kappas[-1]
    match = [k for k in kappas if isinstance(kappa, (int, float)) and math.isclose(k, kappa, abs_tol=1e-9)]
    if not match:
        raise ValueError(f"kappa must be one of the sweep's κ {kappas}, got {kappa!r}")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
        raise ValueError(f"threshold must be a number (a κ), got {threshold!r}")
    if levels is not None:
        for name, lines in levels.items():
            if name not in metrics:
                raise ValueError(f"levels: keys must be metrics among {metrics}, got {name!r}")
            if not isinstance(lines, Mapping):
                raise ValueError(f"levels[{name!r}] must map labels to values, got {lines!r}")
    return _SweepExplorer(sweep, metric, learners, match[0], threshold, dict(levels or {}))
