"""scripts/make_student_notebooks.py: run on the book's chapters, and on small synthetic notebooks."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_student_notebooks.py"
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))

spec = importlib.util.spec_from_file_location("make_student_notebooks", SCRIPT)
students = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = students   # dataclasses look their module up there
spec.loader.exec_module(students)

STUB = re.compile(r'^raise NotImplementedError\("Exercise (\S+): your solution here"\)$')


def labels_of(nb):
    """Exercise labels, read independently of the script."""
    return [m for c in nb.cells if c.cell_type == "markdown"
            for m in re.findall(r"```\{exercise\}[^\n]*\n(?::[\w-]+:[^\n]*\n)*?:label: (\S+)", c.source)]


def without_solutions(nb):
    """The cells outside solution-start ... solution-end blocks (inclusive), as plain dicts."""
    kept, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "{solution-start}" in cell.source:
            inside = True
        if not inside:
            kept.append(dict(cell))
        if cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            inside = False
    return kept


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    run = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return out, run


def test_one_student_notebook_per_chapter_and_a_readme(generated):
    out, run = generated
    assert CHAPTERS
    assert sorted(p.name for p in out.glob("*.ipynb")) == [p.name for p in CHAPTERS]
    readme = (out / "README.md").read_text()
    for path in CHAPTERS:
        assert path.name in readme
    assert f"{len(CHAPTERS)} student notebooks" in run.stdout


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_solutions_are_replaced_by_one_stub_each(generated, path):
    out, _ = generated
    book = nbformat.read(path, as_version=4)
    student = nbformat.read(out / path.name, as_version=4)
    nbformat.validate(student)
    text = "\n".join(c.source for c in student.cells)
    assert "solution-start" not in text and "solution-end" not in text and "{solution}" not in text
    stubs = [c for c in student.cells if c.cell_type == "code" and STUB.match(c.source.strip())]
    labels = labels_of(book)
    assert labels, f"{path.name} has no exercise"
    assert [STUB.match(c.source.strip()).group(1) for c in stubs] == labels
    assert all("raises-exception" in c.metadata.get("tags", []) for c in stubs)
    # every other cell is the book's, unchanged and in order
    assert [dict(c) for c in student.cells if c not in stubs] == without_solutions(book)
    assert student.metadata == book.metadata
    ids = [c["id"] for c in student.cells if "id" in c]
    assert len(set(ids)) == len(ids)


def toy_notebook():
    return new_notebook(cells=[
        new_markdown_cell("# 1. Toy"),
        new_code_cell("import math\nx = 2"),
        new_markdown_cell("```{exercise} First\n:label: ex-toy-1\n\nCompute y.\n```"),
        new_markdown_cell("```{solution-start} ex-toy-1\n:class: dropdown\n```"),
        new_code_cell("y = math.sqrt(x)\ndef helper(v):\n    return v + y"),
        new_markdown_cell("Discussion of the solution."),
        new_code_cell("z = [v for v in range(3)]"),
        new_markdown_cell("```{solution-end}\n```"),
        new_code_cell("print(y, helper(1), [v * 2 for v in z])\ny = 0"),
        new_markdown_cell("Intro text\n\n:::{exercise} Second\n:label: ex-toy-2\nWhy?\n:::"),
        new_markdown_cell("Before.\n\n```{solution} ex-toy-2\n:class: dropdown\nBecause.\n```\n\nAfter."),
        new_code_cell("print(y)"),
    ])


def test_toy_notebook_conversion_and_dependencies():
    result = students.convert(toy_notebook(), "toy")
    cells = result.notebook.cells
    assert result.labels == ["ex-toy-1", "ex-toy-2"] == students.exercise_labels(toy_notebook())
    sources = [c.source for c in cells]
    assert sources[3] == 'raise NotImplementedError("Exercise ex-toy-1: your solution here")'
    assert "Discussion" not in "".join(sources) and "Because" not in "".join(sources)
    assert "Before." in sources and "After." in sources     # text around a one-cell solution is kept
    assert sources.count('raise NotImplementedError("Exercise ex-toy-2: your solution here")') == 1
    # y, helper and z come from the first solution and are read later; v is a comprehension variable
    assert result.dependencies == {"ex-toy-1": ["helper", "y", "z"]}
    nbformat.validate(result.notebook)


def test_old_notebooks_without_cell_ids_stay_valid():
    nb = toy_notebook()
    nb.nbformat_minor = 4
    for cell in nb.cells:
        del cell["id"]
    nbformat.validate(nb)
    result = students.convert(nb, "toy")
    nbformat.validate(result.notebook)
    assert all("id" not in cell for cell in result.notebook.cells)


def test_unpaired_markers_are_errors():
    nb = toy_notebook()
    del nb.cells[7]                      # the first solution-end
    with pytest.raises(students.StudentNotebookError, match="ex-toy-1"):
        students.convert(nb, "toy")
    nb = toy_notebook()
    del nb.cells[3]                      # the first solution-start
    with pytest.raises(students.StudentNotebookError, match="never opened"):
        students.convert(nb, "toy")


def test_script_on_a_folder_of_new_chapters(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(toy_notebook(), book / "11_toy.ipynb")
    nbformat.write(new_notebook(cells=[new_markdown_cell("notes")]), book / "notes.ipynb")   # not a chapter
    out = tmp_path / "out"
    out.mkdir()
    (out / "99_stale.ipynb").write_text("{}")
    assert students.main(["--book", str(book), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.ipynb")) == ["11_toy.ipynb"]
    assert "`helper`" in (out / "README.md").read_text()
