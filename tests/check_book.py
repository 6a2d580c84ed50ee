"""Checks around the book build, called by the Makefile (not a pytest module).

``--version``: Jupyter Book must be 1.x (version 2 silently builds nothing from
``_config.yml``/``_toc.yml``).
``--html DIR``: the build wrote an HTML page for the root and for every file in ``_toc.yml``,
and every chapter notebook's page has a Colab launch link to that same notebook in the
configured repository.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every document named in a Jupyter Book ``_toc.yml``, root first, without extension."""
    toc = yaml.safe_load(toc_path.read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def check_version() -> None:
    import jupyter_book

    version = jupyter_book.__version__
    if not version.startswith("1."):
        sys.exit(f"jupyter-book must be 1.x (pip install 'jupyter-book<2'), found {version}")
    print(f"jupyter-book {version}: ok")


def check_html(html_dir: Path) -> None:
    missing = [f for f in toc_files() if not (html_dir / f"{f}.html").is_file()
               or (html_dir / f"{f}.html").stat().st_size == 0]
    pages = list(html_dir.rglob("*.html"))
    if not pages:
        sys.exit(f"the book build wrote no HTML page under {html_dir}")
    if missing:
        sys.exit(f"the book build wrote no HTML page for: {', '.join(missing)} (under {html_dir})")
    print(f"{len(pages)} HTML pages under {html_dir}, one for each of the {len(toc_files())} files in _toc.yml: ok")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/").rstrip("/")
    branch = config["repository"].get("branch", "main")
    notebooks = [f for f in toc_files() if (ROOT / f"{f}.ipynb").is_file()]
    wrong = []
    for f in notebooks:
        expected = f"{config['launch_buttons']['colab_url']}/github/{repo}/blob/{branch}/{f}.ipynb"
        if expected not in (html_dir / f"{f}.html").read_text():
            wrong.append(f"{f} (expected a link to {expected})")
    if wrong:
        sys.exit("chapter pages without their Colab launch link: " + "; ".join(wrong))
    print(f"{len(notebooks)} chapter pages launch their own notebook in Colab: ok")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="store_true", help="check that jupyter-book is 1.x")
    parser.add_argument("--html", type=Path, help="check the HTML written under this folder")
    args = parser.parse_args()
    if args.version:
        check_version()
    if args.html is not None:
        check_html(args.html)


if __name__ == "__main__":
    main()
