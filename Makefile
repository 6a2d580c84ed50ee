# Two commands do all the set-up on a fresh machine:
#   make book   installs what is needed, executes every chapter, writes HTML to _build/html
#   make test   a Sphinx check of the markup, unit tests and nbval over every chapter, the
#               executed book, and a real-browser check of its pages (skipped without Chromium)
# The size of every experiment comes from HIGHT_LITE_PRESET (quick | cpu | paper; default cpu).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Sweeps that chapters share (chapter 7 reuses chapter 6's) are cached here, keyed by the
# package's source: a fresh clone computes everything.
export HIGHT_LITE_CACHE ?= $(CURDIR)/_build/cache

# MathJax is served with the book (from the npm registry at build time), so that math
# renders without a CDN, in the browser check too.
MATHJAX := _build/mathjax/es5/tex-chtml.js

.PHONY: book test unit notebooks sphinx-check browser-check student install clean

install: $(STAMP) $(MATHJAX)

$(MATHJAX):
	rm -rf _build/mathjax && mkdir -p _build/mathjax
	cd _build/mathjax && npm pack --silent mathjax@3.2.2 >/dev/null && tar xzf mathjax-3.2.2.tgz \
		&& mv package/es5 es5 && rm -rf package mathjax-3.2.2.tgz

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

book: $(STAMP) $(MATHJAX)
	$(PY) tests/check_book.py --version
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	$(PY) tests/check_book.py --html _build/html

# In order, failing at the first step that fails:
#   1. sphinx-check  the markup, without executing anything (a minute; fails fast)
#   2. pytest        unit tests, and nbval executing every chapter; the sweeps land in _build/cache
#   3. book          the executed book, with warnings as errors; sweeps are read from the cache
#   4. browser-check every page of _build/html in headless Chromium (skipped, and said so,
#                    when Chromium is missing; .ci/run installs it)
test: $(STAMP) $(MATHJAX)
	$(MAKE) sphinx-check
	$(PY) -m pytest tests book --nbval-lax --nbval-cell-timeout=600 -p no:cacheprovider
	$(MAKE) book
	$(MAKE) browser-check

# The book's markup, references, exercises and math, with warnings as errors. Chapters are
# not executed here: nbval runs every one of them in the same test command.
sphinx-check: $(STAMP) $(MATHJAX)
	$(PY) tests/check_book.py --version
	rm -rf _build/sphinx-check
	$(VENV)/bin/jupyter-book config sphinx . >/dev/null
	$(VENV)/bin/sphinx-build -W -n --keep-going -q -b html -D nb_execution_mode=off . _build/sphinx-check/html
	rm -f conf.py
	$(PY) tests/check_book.py --html _build/sphinx-check/html

# Error outputs, missing figures and unrendered math, as a reader's browser shows them;
# one screenshot per page under _build/browser.
browser-check: $(STAMP)
	$(PY) tests/browser_check.py _build/html --screenshots _build/browser

# Student notebooks (solutions replaced by NotImplementedError cells) in _build/student.
student: $(STAMP)
	$(PY) scripts/make_student_notebooks.py --out _build/student

unit: $(STAMP)
	$(PY) -m pytest tests

notebooks: $(STAMP)
	$(PY) -m pytest book --nbval-lax --nbval-cell-timeout=600 -p no:cacheprovider

clean:
	rm -rf _build conf.py
