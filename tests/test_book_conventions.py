"""The book's conventions, checked on the stored chapters (no kernel needed)."""

import re
from pathlib import Path

import nbformat
import pytest
import yaml
from check_book import toc_files

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
PREINSTALLED = ("torch", "numpy", "matplotlib", "ipywidgets")


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_there_are_chapters_and_all_are_in_the_toc():
    assert CHAPTERS, "no chapter notebooks found under book/"
    listed = set(toc_files())
    for path in CHAPTERS:
        assert f"book/{path.stem}" in listed, f"{path.name} is missing from _toc.yml"
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").is_file() for ext in (".md", ".ipynb")), f"{entry} in _toc.yml has no file"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in code_cells(nb):
        assert not cell.outputs and cell.execution_count is None, f"{path.name} has stored outputs"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_first_code_cell_installs_only_in_colab_from_the_configured_url(path):
    source = code_cells(nbformat.read(path, as_version=4))[0].source
    assert 'if "google.colab" in sys.modules:' in source
    urls = re.findall(r"git\+(https://[^\s\"']+)", source)
    assert urls == [CONFIG["repository"]["url"]], f"{path.name} installs from {urls}"
    install_args = source.split("pip", 1)[1]
    for name in PREINSTALLED:
        assert not re.search(rf"\b{name}\b", install_args), f"{path.name} reinstalls {name}"
    assert "--upgrade" not in source and "--force-reinstall" not in source


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_sizes_come_from_the_preset(path):
    text = "\n".join(c.source for c in code_cells(nbformat.read(path, as_version=4)))
    assert "get_preset(" in text
    assert "HIGHT_LITE_PRESET" not in text, "chapters must not pick a preset themselves"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_exercises_have_executed_solutions(path):
    nb = nbformat.read(path, as_version=4)
    labels = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            labels += re.findall(r"```\{exercise\}[^\n]*\n:label: ([\w-]+)", cell.source)
    assert len(labels) >= 2, f"{path.name} has {len(labels)} exercises, needs at least 2"
    for label in labels:
        starts = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and f"{{solution-start}} {label}" in c.source]
        assert len(starts) == 1, f"{path.name}: exercise {label} needs exactly one solution"
        end = next(i for i in range(starts[0], len(nb.cells)) if "{solution-end}" in nb.cells[i].source)
        between = nb.cells[starts[0] + 1 : end]
        assert any(c.cell_type == "code" and c.source.strip() for c in between), f"{label}: solution has no code"
        for c in between:
            assert "skip-execution" not in c.metadata.get("tags", []), f"{label}: solution code must run"


def test_exercise_labels_are_unique_across_the_book():
    labels = []
    for path in CHAPTERS:
        for cell in nbformat.read(path, as_version=4).cells:
            labels += re.findall(r":label: ([\w-]+)", cell.source) if cell.cell_type == "markdown" else []
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_skip_tags_come_in_pairs(path):
    for cell in code_cells(nbformat.read(path, as_version=4)):
        tags = set(cell.metadata.get("tags", []))
        assert ("skip-execution" in tags) == ("nbval-skip" in tags), f"{path.name}: skip tags must come in pairs"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_asserts_its_claims(path):
    text = "\n".join(c.source for c in code_cells(nbformat.read(path, as_version=4)))
    assert len(re.findall(r"^\s*assert ", text, flags=re.M)) >= 3


def test_launch_buttons_point_at_colab_and_the_repository():
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["repository"]["url"].startswith("https://github.com/")
    # the chapters sit at book/NN_slug.ipynb relative to the repository root
    assert CONFIG["repository"]["path_to_book"] == ""
