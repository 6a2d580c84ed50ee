#!/usr/bin/env python3
"""Open every page of the built book in headless Chromium and check what a reader would see.

    python tests/browser_check.py _build/html [--screenshots _build/browser]

For every file of ``_toc.yml`` the page is served from a local HTTP server (127.0.0.1; every
other host is made unreachable, so nothing may come from a CDN) and opened in
headless Chromium, which dumps the DOM after the page's scripts ran and saves a screenshot
under ``--screenshots`` (default ``_build/browser``) for review. A page fails when

* it shows an error output: a traceback or error output of myst-nb, the text
  "Traceback (most recent call last)", or a stderr output mentioning an error (cells tagged
  ``raises-exception`` are allowed their traceback);
* a figure is missing: a chapter notebook shows no image, or an image's file is absent or empty;
* math is not rendered: the page has math but MathJax produced none (``mjx-container``),
  a math element was left untypeset, raw ``$$``, ``\\(`` or ``\\[`` remains in the text,
  MathJax reports an error (``mjx-merror``) or a macro it does not know (shown in red).

Without Chromium the check prints "browser check SKIPPED: chromium not found" and exits 0
(``--require`` makes that an error); any failing page makes it exit 1.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

from bs4 import BeautifulSoup

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_book import toc_files  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
SKIPPED = "browser check SKIPPED: chromium not found"

# Flags that work offline, without a GPU or a sandbox (CI containers run as root).
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
    # every host but the local server fails at once: no CDN, no waiting for DNS
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
# Text that is never prose: code, scripts, and MathJax's own output.
NOT_PROSE = ("script", "style", "pre", "code", "textarea", "noscript", "mjx-container", "mjx-assistive-mml")
RAW_MATH = ("$$", "\\(", "\\)", "\\[", "\\]", "\\begin{")


@dataclass
class PageResult:
    """What the check found on one page."""

    entry: str
    problems: list[str] = field(default_factory=list)
    math_elements: int = 0
    mathjax: int = 0
    figures: int = 0
    screenshot: Path | None = None


# ---- the book's pages ----------------------------------------------------------------------

def is_notebook(root: Path, entry: str) -> bool:
    """Whether a toc entry is a notebook (a chapter that must show figures)."""
    return (root / f"{entry}.ipynb").is_file()


# ---- checks on a dumped DOM (no browser needed) ----------------------------------------------

def _classes(tag) -> set[str]:
    return set(tag.get("class") or [])


def _in_raises_exception_cell(tag) -> bool:
    return any("tag_raises-exception" in _classes(parent) for parent in tag.parents)


def _content(soup):
    """The page's article (the chapter itself, without the theme's header and sidebars)."""
    return soup.find("article") or soup.find("main") or soup.body or soup


def _prose_text(soup) -> str:
    """The visible text of the page's article, without code, scripts or rendered math."""
    main = _content(soup)
    pieces = []
    for text in main.find_all(string=True):
        if not any(parent.name in NOT_PROSE or "highlight" in _classes(parent) for parent in text.parents):
            pieces.append(str(text))
    return " ".join(pieces)


def source_math_count(html: str) -> int:
    """Math elements (``span.math``/``div.math``) in a page as Sphinx wrote it, before any script."""
    soup = BeautifulSoup(html, "html.parser")
    return len(soup.select(".math"))


def check_errors(soup) -> list[str]:
    problems = []
    for tag in soup.select(".output.traceback, .output.error, .traceback, .output_error"):
        if not _in_raises_exception_cell(tag):
            shown = tag.find("pre") or tag
            lines = [line.strip() for line in shown.get_text().splitlines() if line.strip()]
            problems.append(f"error output: {(lines[-1] if lines else '')[:160]!r}")
    for tag in soup.select(".output.stderr, .stderr"):
        text = tag.get_text(" ", strip=True)
        if "error" in text.lower() and not _in_raises_exception_cell(tag):
            problems.append(f"stderr output with an error: {text[:120]!r}")
    for text in soup.find_all(string=lambda s: s and "Traceback (most recent call last)" in s):
        if not _in_raises_exception_cell(text) and not any(
            p in _classes(parent) for parent in text.parents for p in ("traceback", "error", "stderr")
        ):
            problems.append("the text 'Traceback (most recent call last)' outside an error output")
    return problems


def _resolve_image(src: str, page_url: str, html_dir: Path) -> Path | None:
    """The file under ``html_dir`` an ``img`` source points to (None for data: or foreign URLs)."""
    url = urlparse(urljoin(page_url, src))
    if url.scheme not in ("http", "https", "file") or (url.scheme != "file" and url.hostname not in ("127.0.0.1", "localhost")):
        return None
    return html_dir / unquote(url.path).lstrip("/")


def check_figures(soup, page_url: str, html_dir: Path, needs_figure: bool) -> tuple[int, list[str]]:
    """Every image of the page must load; a chapter notebook's article must show at least one."""
    problems = []
    article = _content(soup)
    shown = 0
    for img in (soup.find("main") or soup).find_all("img"):
        src = img.get("src") or ""
        if src.startswith("data:"):
            ok = len(src) >= 100
            if not ok:
                problems.append(f"empty inline image {src[:40]!r}")
        else:
            path = _resolve_image(src, page_url, html_dir)
            ok = False
            if path is None:
                problems.append(f"image from outside the book: {src!r}")
            elif not path.is_file() or path.stat().st_size == 0:
                problems.append(f"missing or empty image file: {src!r}")
            elif path.suffix.lower() == ".png" and path.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
                problems.append(f"not a PNG file: {src!r}")
            else:
                ok = True
        if ok and any(parent is article for parent in img.parents):
            shown += 1
    if needs_figure and shown == 0:
        problems.append("no figure: a chapter notebook must show at least one image")
    return shown, problems


def check_math(soup, source_math: int) -> tuple[int, list[str]]:
    problems = []
    rendered = soup.find_all("mjx-container")
    if source_math and not rendered:
        problems.append(f"math not rendered: {source_math} math elements and no MathJax output (is MathJax served?)")
    untypeset = [m for m in soup.select(".math") if not m.find("mjx-container")]
    if rendered and untypeset:
        problems.append(f"{len(untypeset)} math element(s) left untypeset, e.g. {untypeset[0].get_text()[:60]!r}")
    errors = soup.find_all("mjx-merror")
    if errors:
        problems.append(f"{len(errors)} MathJax error(s), e.g. {errors[0].get_text()[:80]!r}")
    # MathJax's noundefined extension shows an unknown macro as its name, in red
    undefined = sorted({t.get_text() for t in soup.find_all("mtext", attrs={"mathcolor": "red"})
                        if t.get_text().startswith("\\")})
    if undefined:
        problems.append(f"undefined TeX macro(s): {', '.join(undefined)}")
    text = _prose_text(soup)
    for raw in RAW_MATH:
        if raw in text:
            at = text.index(raw)
            problems.append(f"raw math {raw!r} in the text: {text[max(0, at - 30):at + 40]!r}")
            break
    return len(rendered), problems


def check_dom(dom: str, entry: str, page_url: str, html_dir: Path, source_math: int, needs_figure: bool) -> PageResult:
    """All checks on one page's DOM as the browser left it."""
    result = PageResult(entry)
    soup = BeautifulSoup(dom, "html.parser")
    if not soup.find("main") and not soup.find("article"):
        result.problems.append("the page has no main content (did it load?)")
    result.problems += check_errors(soup)
    result.figures, problems = check_figures(soup, page_url, html_dir, needs_figure)
    result.problems += problems
    result.mathjax, problems = check_math(soup, source_math)
    result.problems += problems
    result.math_elements = source_math
    return result


# ---- the browser -------------------------------------------------------------------------

def find_chromium(explicit: str | None = None) -> str | None:
    """A Chromium executable: ``explicit``, ``$CHROMIUM``, or the first of the usual names on PATH."""
    for candidate in (explicit, os.environ.get("CHROMIUM")):
        if candidate:
            return shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def run_chromium(chromium: str, url: str, action: list[str], timeout: float, budget_ms: int) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="browser-check-") as profile:
        command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                   f"--virtual-time-budget={budget_ms}", *action, url]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D102 - no access log on stderr
        pass


class LocalServer:
    """A static file server for ``folder`` on 127.0.0.1, in a thread."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> "LocalServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def check_page(chromium: str, base_url: str, html_dir: Path, entry: str, needs_figure: bool,
               screenshots: Path | None, timeout: float = 90, budget_ms: int = 8000) -> PageResult:
    """Open one page in Chromium (one run: the DOM after scripts, and a screenshot), and check it."""
    page = html_dir / f"{entry}.html"
    if not page.is_file():
        return PageResult(entry, [f"no HTML page {page}"])
    url = urljoin(base_url, f"{entry}.html")
    action = ["--dump-dom"]
    shot = None
    if screenshots is not None:
        shot = screenshots / f"{entry.replace('/', '__')}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        shot.unlink(missing_ok=True)
        action += [f"--screenshot={shot}", "--window-size=1280,2400"]
    try:
        run = run_chromium(chromium, url, action, timeout, budget_ms)
    except subprocess.TimeoutExpired:
        return PageResult(entry, [f"chromium did not finish within {timeout:.0f} s"])
    if run.returncode != 0 or not run.stdout.strip():
        tail = [line for line in run.stderr.strip().splitlines() if "dbus" not in line.lower()][-3:]
        return PageResult(entry, [f"chromium failed (exit {run.returncode}): {' | '.join(tail)}"])
    result = check_dom(run.stdout, entry, url, html_dir, source_math_count(page.read_text(errors="replace")),
                       needs_figure)
    if shot is not None:
        if shot.is_file() and shot.stat().st_size > 0:
            result.screenshot = shot
        else:
            result.problems.append("chromium wrote no screenshot")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("html", type=Path, nargs="?", default=ROOT / "_build" / "html", help="the built book (default: _build/html)")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="folder for one PNG per page (default: browser/ next to the html folder, e.g. _build/browser)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the book's sources, with _toc.yml (default: this repository)")
    parser.add_argument("--chromium", default=None, help="the Chromium executable (default: $CHROMIUM, then chromium on PATH)")
    parser.add_argument("--require", action="store_true", help="fail, instead of skipping, when Chromium is missing")
    parser.add_argument("--timeout", type=float, default=90, help="seconds allowed per Chromium run (default: 90)")
    parser.add_argument("--pages", nargs="*", default=None, help="only these toc entries (e.g. book/02_sight)")
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                        help="pages opened at the same time (default: the number of cores, at most 4)")
    args = parser.parse_args(argv)

    chromium = find_chromium(args.chromium)
    if chromium is None:
        print(SKIPPED + (" (--require: failing)" if args.require else " (install it, e.g. apt-get install chromium)"))
        return 1 if args.require else 0
    html_dir = args.html.resolve()
    if not html_dir.is_dir():
        print(f"browser check FAILED: no built book at {html_dir} (run make book first)")
        return 1
    screenshots = (args.screenshots or html_dir.parent / "browser").resolve()
    entries = args.pages or toc_files(args.root / "_toc.yml")
    print(f"browser check: {len(entries)} pages of {html_dir} in {chromium}; screenshots in {screenshots}")
    with LocalServer(html_dir) as server, concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = [pool.submit(check_page, chromium, server.url, html_dir, entry, is_notebook(args.root, entry),
                               screenshots, timeout=args.timeout) for entry in entries]
        results = []
        for future in futures:  # in the order of the toc
            result = future.result()
            results.append(result)
            status = "ok" if not result.problems else "FAIL"
            print(f"  {status:4} {result.entry}: {result.figures} figure(s), math {result.mathjax} rendered "
                  f"/ {result.math_elements} element(s)", flush=True)
            for problem in result.problems:
                print(f"         - {problem}", flush=True)
    failed = [r for r in results if r.problems]
    if failed:
        print(f"browser check FAILED on {len(failed)} of {len(results)} pages: {', '.join(r.entry for r in failed)}")
        return 1
    print(f"browser check passed: {len(results)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
