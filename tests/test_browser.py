"""tests/browser_check.py: its checks on small synthetic pages, and one run in a real Chromium."""

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_check as bc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MATHJAX = ROOT / "_build" / "mathjax" / "es5"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def page(article: str, head: str = "") -> str:
    return (f"<html><head>{head}</head><body><main><div class='header'>"
            f"<img src='../_static/logo.png'></div><article class='bd-article'>{article}</article></main></body></html>")


RENDERED = "<span class='math notranslate nohighlight'><mjx-container class='MathJax'>x</mjx-container></span>"
FIGURE = "<div class='cell_output'><img src='../_images/fig.png'></div>"
TRACEBACK = ("<div class='cell{tag} docutils container'><div class='cell_output docutils container'>"
             "<div class='output traceback highlight-ipythontb notranslate'><div class='highlight'><pre>"
             "Traceback (most recent call last)\nValueError: nope</pre></div></div></div></div>")


@pytest.fixture
def site(tmp_path):
    (tmp_path / "_images").mkdir()
    (tmp_path / "_static").mkdir()
    (tmp_path / "_images" / "fig.png").write_bytes(PNG)
    (tmp_path / "_static" / "logo.png").write_bytes(PNG)
    (tmp_path / "_images" / "empty.png").write_bytes(b"")
    return tmp_path


def check(site, article, source_math=1, needs_figure=True):
    url = "http://127.0.0.1:8000/book/ch.html"
    return bc.check_dom(page(article), "book/ch", url, site, source_math, needs_figure).problems


def test_a_good_page_passes(site):
    assert check(site, f"<p>Text {RENDERED}</p>{FIGURE}<pre>a $$ b \\( c</pre>") == []
    assert check(site, "<p>no math, no figure</p>", source_math=0, needs_figure=False) == []


def test_error_outputs_fail_except_in_raises_exception_cells(site):
    good = f"{RENDERED}{FIGURE}"
    problems = check(site, good + TRACEBACK.format(tag=""))
    assert len(problems) == 1 and "error output" in problems[0] and "ValueError" in problems[0]
    assert check(site, good + TRACEBACK.format(tag=" tag_raises-exception")) == []
    assert any("stderr" in p for p in check(site, good + "<div class='output stderr'>RuntimeError: boom</div>"))
    assert check(site, good + "<div class='output stderr'>a progress bar</div>") == []
    assert any("Traceback" in p for p in check(site, good + "<p>Traceback (most recent call last): ...</p>"))


def test_missing_figures_fail(site):
    assert check(site, RENDERED) == ["no figure: a chapter notebook must show at least one image"]
    assert any("missing or empty" in p for p in check(site, RENDERED + FIGURE.replace("fig.png", "gone.png")))
    assert any("missing or empty" in p for p in check(site, RENDERED + FIGURE.replace("fig.png", "empty.png")))
    (site / "_images" / "fake.png").write_text("not an image")
    assert any("not a PNG" in p for p in check(site, RENDERED + FIGURE.replace("fig.png", "fake.png")))
    assert any("outside the book" in p for p in check(site, RENDERED + "<img src='https://cdn.example.org/a.png'>"))
    # the theme's header images are checked but are not figures of the chapter
    assert check(site, RENDERED, needs_figure=False) == []
    (site / "_static" / "logo.png").unlink()
    assert any("logo.png" in p for p in check(site, RENDERED, needs_figure=False))


def test_unrendered_math_fails(site):
    raw = "<span class='math notranslate nohighlight'>\\(x^2\\)</span>"
    problems = check(site, raw + FIGURE, source_math=1)
    assert any("math not rendered" in p for p in problems) and any("raw math" in p for p in problems)
    problems = check(site, RENDERED + raw + FIGURE, source_math=2)   # MathJax ran but skipped one
    assert any("untypeset" in p for p in problems)
    assert any("raw math '$$'" in p for p in check(site, RENDERED + FIGURE + "<p>$$ x $$</p>"))
    merror = "<span class='math'><mjx-container><mjx-merror>Undefined control sequence \\foo</mjx-merror></mjx-container></span>"
    assert any("MathJax error" in p for p in check(site, merror + FIGURE))
    undefined = ("<span class='math'><mjx-container><mjx-assistive-mml><math><mtext mathcolor='red'>\\Rnope</mtext>"
                 "</math></mjx-assistive-mml></mjx-container></span>")
    assert check(site, undefined + FIGURE) == ["undefined TeX macro(s): \\Rnope"]


def test_source_math_count_and_toc(tmp_path):
    html = "<p><span class='math notranslate nohighlight'>\\(a\\)</span></p><div class='math notranslate nohighlight'>\\[b\\]</div>"
    assert bc.source_math_count(html) == 2
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/intro\nparts:\n  - caption: A\n    chapters:\n      - file: book/01_a\n"
                   "        sections:\n          - file: book/01_b\n  - caption: B\n    chapters:\n      - file: book/bib\n")
    assert bc.toc_files(toc) == ["book/intro", "book/01_a", "book/01_b", "book/bib"]


def test_without_chromium_the_check_says_it_was_skipped(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CHROMIUM", raising=False)
    assert bc.find_chromium() is None
    assert bc.main([str(tmp_path)]) == 0
    assert "browser check SKIPPED: chromium not found" in capsys.readouterr().out
    assert bc.main([str(tmp_path), "--require"]) == 1


@pytest.mark.skipif(bc.find_chromium() is None, reason="chromium not found: the real-browser test needs it (apt-get install chromium)")
def test_real_chromium_passes_a_good_page_and_fails_a_broken_one(site, capsys):
    book = site / "html"
    (book / "book").mkdir(parents=True)
    shutil.move(site / "_images", book / "_images")
    shutil.move(site / "_static", book / "_static")
    math, head = "", ""
    if MATHJAX.is_dir():    # the MathJax the book serves (make install fetches it)
        shutil.copytree(MATHJAX, book / "_static" / "es5")
        head = "<script defer src='../_static/es5/tex-chtml.js'></script>"
        math = "<span class='math notranslate nohighlight'>\\(x^2 + \\int_0^1 f\\)</span>"
    (book / "book" / "good.html").write_text(page(f"<p>Good {math}</p>{FIGURE}", head))
    (book / "book" / "bad.html").write_text(page(f"<p>Bad {math}</p>" + TRACEBACK.format(tag=""), head))
    for name in ("good", "bad"):
        (site / "book" / f"{name}.ipynb").parent.mkdir(exist_ok=True)
        (site / "book" / f"{name}.ipynb").write_text("{}")
    (site / "_toc.yml").write_text("format: jb-book\nroot: book/good\nchapters:\n  - file: book/bad\n")
    shots = site / "shots"
    assert bc.main([str(book), "--root", str(site), "--screenshots", str(shots), "--timeout", "120"]) == 1
    out = capsys.readouterr().out
    assert "ok   book/good" in out and "FAIL book/bad" in out
    assert "error output" in out and "no figure" in out
    if math:
        assert "math 1 rendered / 1 element(s)" in out.split("book/good")[1].splitlines()[0]
    assert (shots / "book__good.png").read_bytes()[:4] == b"\x89PNG"
    assert (shots / "book__bad.png").stat().st_size > 0
