#!/usr/bin/env python3
"""Write student versions of the book's chapters: every exercise's solution replaced by a stub.

Reads every chapter ``book/[0-9][0-9]_*.ipynb`` (whatever chapters exist) and writes a copy of
each into the output folder (default ``_build/student``, ignored by git), plus a README.

In each chapter, every solution block of sphinx-exercise,

* a markdown cell opening ```` ```{solution-start} <label> ````,
* the solution's code cells and discussion,
* a markdown cell ```` ```{solution-end} ````,

(and every one-cell ```` ```{solution} <label> ```` block) becomes ONE code cell

    raise NotImplementedError("Exercise <label>: your solution here")

tagged ``raises-exception``, so that the notebook still executes top to bottom with
nbclient, nbval or Jupyter Book. Every other cell is kept as it is (same id, metadata and
source; chapters are stored without outputs). Exercises may use backtick or colon fences.

Later cells that read a name only a solution defines would fail in the student version; the
script lists them (a warning on stderr and a section of the README) without failing.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "_build" / "student"
STUB_TAG = "raises-exception"

_FENCE = r"(?:`{3,}|:{3,})"
SOLUTION_START = re.compile(rf"^[ \t]*{_FENCE}\{{solution-start\}}[ \t]+(\S+)", re.MULTILINE)
SOLUTION_END = re.compile(rf"^[ \t]*({_FENCE})\{{solution-end\}}[^\n]*\n(?:[ \t]*:[^\n]*\n)*[ \t]*\1[ \t]*$", re.MULTILINE)
SOLUTION_ONE_CELL = re.compile(rf"^[ \t]*({_FENCE})\{{solution\}}[ \t]+(\S+).*?^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
EXERCISE = re.compile(rf"^[ \t]*{_FENCE}\{{exercise\}}[^\n]*\n((?:[ \t]*:[\w-]+:[^\n]*\n)*)", re.MULTILINE)
LABEL = re.compile(r"^[ \t]*:label:[ \t]*(\S+)", re.MULTILINE)


class StudentNotebookError(ValueError):
    """A chapter whose solution markers do not pair up."""


@dataclass
class Conversion:
    """One chapter's student version and what was done to it."""

    notebook: nbformat.NotebookNode
    labels: list[str] = field(default_factory=list)           # the exercises stubbed, in order
    dependencies: dict[str, list[str]] = field(default_factory=dict)  # label -> names used after its solution


def stub_source(label: str) -> str:
    return f'raise NotImplementedError("Exercise {label}: your solution here")'


def _stub_cell(label: str, taken_ids: set[str]) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(stub_source(label), metadata={"tags": [STUB_TAG]})
    base = re.sub(r"[^A-Za-z0-9_-]", "-", f"student-{label}")[:60]
    cell_id, i = base, 1
    while cell_id in taken_ids:
        i += 1
        cell_id = f"{base[:56]}-{i}"
    taken_ids.add(cell_id)
    cell["id"] = cell_id
    return cell


def exercise_labels(nb: nbformat.NotebookNode) -> list[str]:
    """The labels of the exercises of a notebook, in order."""
    labels = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for options in EXERCISE.findall(cell.source):
                found = LABEL.search(options)
                if found:
                    labels.append(found.group(1))
    return labels


def _markdown(source: str, template: nbformat.NotebookNode, suffix: str, taken_ids: set[str]):
    """A markdown cell holding what a marker cell had besides the marker (None if only blanks)."""
    if not source.strip():
        return None
    cell = copy.deepcopy(template)
    cell.source = source.strip("\n")
    cell["id"] = f"{template.get('id', 'cell')[:50]}-{suffix}"
    taken_ids.add(cell["id"])
    return cell


class _Events(ast.NodeVisitor):
    """Module-level name events of a cell in evaluation order: ("load" | "store", name).

    Stores inside functions, lambdas and comprehensions are local and not recorded; loads
    there count (a function reads globals when it is called), except of its own locals.
    """

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self._locals: list[set[str]] = []

    def _load(self, name: str) -> None:
        if not any(name in scope for scope in self._locals):
            self.events.append(("load", name))

    def _store(self, name: str) -> None:
        if not self._locals:
            self.events.append(("store", name))

    def visit_Name(self, node: ast.Name) -> None:
        (self._load if isinstance(node.ctx, ast.Load) else self._store)(node.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._load(node.target.id)
        self.visit(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for child in node.body + node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._store((alias.asname or alias.name).split(".")[0])

    visit_ImportFrom = visit_Import

    def _scope(self, node: ast.AST, body: list[ast.AST], arguments: ast.arguments | None) -> None:
        local: set[str] = set()
        if arguments is not None:
            local |= {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
            local |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
        for child in body:
            for sub in ast.walk(child):
                if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
                    local.add(sub.id)
                elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    local.add(sub.name)
        self._locals.append(local)
        for child in body:
            self.visit(child)
        self._locals.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None] + node.decorator_list:
            self.visit(default)
        self._scope(node, node.body, node.args)
        self._store(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in node.bases + node.decorator_list:
            self.visit(expr)
        self._scope(node, node.body, None)
        self._store(node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in node.args.defaults:
            self.visit(default)
        self._scope(node, [node.body], node.args)

    def _comprehension(self, node, parts: list[ast.AST]) -> None:
        local = {sub.id for gen in node.generators for sub in ast.walk(gen.target) if isinstance(sub, ast.Name)}
        self.visit(node.generators[0].iter)
        self._locals.append(local)
        for gen in node.generators:
            for condition in gen.ifs:
                self.visit(condition)
        for gen in node.generators[1:]:
            self.visit(gen.iter)
        for part in parts:
            self.visit(part)
        self._locals.pop()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])


def _events(source: str) -> list[tuple[str, str]]:
    try:
        tree = ast.parse(_strip_magics(source))
    except SyntaxError:
        return []
    visitor = _Events()
    visitor.visit(tree)
    return visitor.events


def _defined_names(sources: list[str]) -> set[str]:
    """Names a list of cells binds at module level."""
    return {name for source in sources for kind, name in _events(source) if kind == "store"}


def _strip_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _first_use(names: set[str], source: str) -> tuple[set[str], set[str]]:
    """(names of ``names`` the cell reads before binding them, names it binds)."""
    reads: set[str] = set()
    bound: set[str] = set()
    for kind, name in _events(source):
        if kind == "store":
            bound.add(name)
        elif name in names and name not in bound:
            reads.add(name)
    return reads, bound


def convert(nb: nbformat.NotebookNode, name: str = "notebook") -> Conversion:
    """The student version of ``nb`` (a new notebook; ``nb`` is not modified)."""
    out = copy.deepcopy(nb)
    taken_ids = {c.get("id") for c in nb.cells if c.get("id")}
    cells: list = []
    labels: list[str] = []
    solutions: list[tuple[str, int, list[str]]] = []   # (label, index in the new cells, solution code)
    i = 0
    while i < len(nb.cells):
        cell = nb.cells[i]
        if cell.cell_type != "markdown":
            cells.append(copy.deepcopy(cell))
            i += 1
            continue
        one_cell = SOLUTION_ONE_CELL.search(cell.source)
        start = SOLUTION_START.search(cell.source)
        if one_cell and (not start or one_cell.start() < start.start()):
            label = one_cell.group(2)
            before, after = cell.source[: one_cell.start()], cell.source[one_cell.end():]
            for piece, suffix in ((before, "before"), (None, None), (after, "after")):
                if suffix is None:
                    solutions.append((label, len(cells), []))
                    cells.append(_stub_cell(label, taken_ids))
                    labels.append(label)
                elif (kept := _markdown(piece, cell, suffix, taken_ids)) is not None:
                    cells.append(kept)
            i += 1
            continue
        if not start:
            if SOLUTION_END.search(cell.source):
                raise StudentNotebookError(f"{name}: cell {i} closes a solution that was never opened")
            cells.append(copy.deepcopy(cell))
            i += 1
            continue
        label = start.group(1)
        before = _markdown(cell.source[: start.start()], cell, "before", taken_ids)
        if before is not None:
            cells.append(before)
        end_cell = next((j for j in range(i + 1, len(nb.cells))
                         if nb.cells[j].cell_type == "markdown" and SOLUTION_END.search(nb.cells[j].source)), None)
        next_start = next((j for j in range(i + 1, len(nb.cells))
                           if nb.cells[j].cell_type == "markdown" and SOLUTION_START.search(nb.cells[j].source)), None)
        if end_cell is None or (next_start is not None and next_start < end_cell):
            raise StudentNotebookError(f"{name}: the solution of {label} (cell {i}) has no solution-end before the next solution")
        code = [c.source for c in nb.cells[i + 1:end_cell] if c.cell_type == "code"]
        solutions.append((label, len(cells), code))
        cells.append(_stub_cell(label, taken_ids))
        labels.append(label)
        closing = nb.cells[end_cell]
        after = _markdown(closing.source[SOLUTION_END.search(closing.source).end():], closing, "after", taken_ids)
        if after is not None:
            cells.append(after)
        i = end_cell + 1
    if (nb.nbformat, nb.nbformat_minor) < (4, 5):   # cell ids exist from nbformat 4.5 on
        for cell in cells:
            cell.pop("id", None)
    out.cells = cells

    dependencies: dict[str, list[str]] = {}
    for label, position, code in solutions:
        defined = _defined_names(code)
        earlier = _defined_names([c.source for c in cells[:position] if c.cell_type == "code"])
        pending = defined - earlier
        used: set[str] = set()
        for later in cells[position + 1:]:
            if later.cell_type != "code" or not pending:
                continue
            reads, writes = _first_use(pending, later.source)
            used |= reads
            pending -= writes | reads
        if used:
            dependencies[label] = sorted(used)
    return Conversion(out, labels, dependencies)


def chapters(book: Path) -> list[Path]:
    return sorted(book.glob("[0-9][0-9]_*.ipynb"))


def readme(results: dict[str, Conversion], out: Path) -> str:
    lines = [
        "# Student notebooks",
        "",
        "The chapters of the hight_lite book with every exercise's solution removed. Where a",
        "solution was, a code cell raises `NotImplementedError(\"Exercise <label>: your solution here\")`:",
        "replace it with your own code. The cell is tagged `raises-exception`, so the notebook",
        "still executes from top to bottom (nbclient, nbval, Jupyter Book) before you start.",
        "Everything else (text, figures' code, checks) is the book's.",
        "",
        "Generated by `python scripts/make_student_notebooks.py` from `book/`; do not edit here,",
        "regenerate instead (the folder is rewritten each time).",
        "",
        "| chapter | exercises |",
        "|---|---|",
    ]
    for chapter, result in results.items():
        lines.append(f"| `{chapter}` | {', '.join(f'`{label}`' for label in result.labels) or '—'} |")
    deps = {(chapter, label): names for chapter, r in results.items() for label, names in r.dependencies.items()}
    if deps:
        lines += ["", "## Names your solutions must define", "",
                  "Later cells of these chapters use names that the book's solution defined; define them",
                  "in your solution, or those cells will fail:", ""]
        lines += [f"* `{chapter}`, `{label}`: {', '.join(f'`{n}`' for n in names)}" for (chapter, label), names in deps.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="The output folder is emptied of notebooks first; the default, _build/student, is ignored by git.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder to write the student notebooks and README.md into (default: {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("--book", type=Path, default=ROOT / "book", help="folder of the chapters (default: book)")
    args = parser.parse_args(argv)

    sources = chapters(args.book)
    if not sources:
        parser.error(f"no chapter notebooks ([0-9][0-9]_*.ipynb) under {args.book}")
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.ipynb"):
        old.unlink()
    results: dict[str, Conversion] = {}
    for path in sources:
        nb = nbformat.read(path, as_version=4)
        try:
            result = convert(nb, path.name)
        except StudentNotebookError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        missing = [label for label in exercise_labels(nb) if label not in result.labels]
        if missing:
            print(f"warning: {path.name}: exercises without a solution block: {', '.join(missing)}", file=sys.stderr)
        nbformat.validate(result.notebook)
        nbformat.write(result.notebook, args.out / path.name)
        results[path.name] = result
        for label, names in result.dependencies.items():
            print(f"warning: {path.name}: cells after {label} use names its solution defined: {', '.join(names)}",
                  file=sys.stderr)
    (args.out / "README.md").write_text(readme(results, args.out))
    total = sum(len(r.labels) for r in results.values())
    print(f"{len(results)} student notebooks ({total} exercises stubbed) written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
