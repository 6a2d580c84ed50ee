"""Presets: one environment variable picks the size of every experiment."""

import pytest

import hight_lite as hl


def test_default_is_cpu(monkeypatch):
    monkeypatch.delenv("HIGHT_LITE_PRESET", raising=False)
    assert hl.get_preset().name == "cpu"


def test_environment_variable_selects(monkeypatch):
    monkeypatch.setenv("HIGHT_LITE_PRESET", "quick")
    assert hl.get_preset() is hl.PRESETS["quick"]


def test_sizes_grow_from_quick_to_paper():
    quick, cpu, paper = (hl.PRESETS[k] for k in ("quick", "cpu", "paper"))
    assert quick.n_monte_carlo < cpu.n_monte_carlo < paper.n_monte_carlo
    assert quick.seeds <= cpu.seeds <= paper.seeds


def test_unknown_preset_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HIGHT_LITE_PRESET", "huge")
    with pytest.raises(ValueError, match=r"preset must be one of \('quick', 'cpu', 'paper'\).*'huge'"):
        hl.get_preset()
