# The README's two commands: `make book` (set-up + build) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Data and checkpoints live in the checkout, so a clean clone trains from scratch and nothing leaks in.
export LENET_CACHE ?= $(CURDIR)/.cache
SOURCES := $(wildcard lenet_utils/*.py lenet_utils/*/*.py lenet_utils/*.json) pyproject.toml booktools/pyproject.toml constraints.txt

.PHONY: help book test test-fast lint colab notebooks student key benchmark mutation system-data system-browser clean

book: $(VENV)/.installed node_modules/.package-lock.json system-data system-browser  ## set up everything and build the site into _build/html
	$(BIN)/jupyter-book build . -W -n --keep-going
	rm -rf -- "$(CURDIR)/_build/html/editions"  # only what this build writes is published: no key left by hand
	"$(BIN)/python" -m booktools editions _build/html/editions colab student  # downloads, and the colab branch
	"$(BIN)/python" -m booktools.slides  # the deck booktools/slides/deck.yml plans, offline reveal.js: _build/html/slides/
	"$(BIN)/python" -m booktools.handout  # plan.pdf and the worksheet handout.pdf, printed by Chromium: _build/html/teaching/

test: lint book system-browser  ## run every test: lint, unit, data, each chapter once as its Colab edition, the site
	LENET_WEIGHTS_URL=off "$(BIN)/pytest"  # offline: chapters that offer the released weights train instead

# The fast tier: no real data, subprocess, kernel or browser (tests/conftest.py defines the `slow` marker).
FAST_TESTS := -m "not slow and not real_data"
test-fast: $(VENV)/.installed  ## the fast tests only, in under a minute: what to run while changing lenet_utils
	"$(BIN)/pytest" $(FAST_TESTS) -q

lint: $(VENV)/.installed  ## ruff over the package, tests, scripts, benchmarks and the notebooks; actionlint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/actionlint

notebooks: $(VENV)/.installed system-data  ## the reference run: re-execute every chapter in place, strictly, on a quiet machine
	@uptime
	$(BIN)/python -m booktools.reference

colab: $(VENV)/.installed system-data  ## the Colab edition, installed from a tag by its own install line, run cold under Colab's pins
	bash scripts/colab_env.sh

student: $(VENV)/.installed  ## the student edition (no solutions, no outputs, room to answer) into _build/student
	"$(BIN)/python" -m booktools editions _build student

key: $(VENV)/.installed  ## the answer key, for the teacher only (never on the site), into _build/key
	"$(BIN)/python" -m booktools editions _build key

benchmark: $(VENV)/.installed system-data  ## time the original pipeline against lenet_utils and every chapter
	$(BIN)/python benchmarks/epoch_pipeline.py
	$(BIN)/python benchmarks/chapter_times.py

# Preparing a room (book/teaching.md): every model the chapters use, trained or fetched from the book's release
# into the cache without touching the chapters; then one file with the data and those checkpoints (and their
# SHA-256 digests) for lab machines without internet: `python -m lenet_utils prepare --from-bundle FILE` there.
BUNDLE ?= _build/lenet-room.tar.gz
RELEASE_ASSETS ?= _build/release-assets
.PHONY: room bundle release-assets
room: $(VENV)/.installed system-data  ## train or fetch every model the chapters use into the cache
	"$(BIN)/python" -m lenet_utils prepare
bundle: room  ## write the data and the chapters' checkpoints with SHA256SUMS into _build/lenet-room.tar.gz (BUNDLE=FILE), for rooms offline
	"$(BIN)/python" -m booktools.release bundle "$(BUNDLE)"
release-assets: $(VENV)/.installed system-data  ## right after the reference run: its checkpoints and their digests
	"$(BIN)/python" -m booktools.release release-assets "$(RELEASE_ASSETS)"

# Mutation testing (slow, so not part of `make test`): in a copy of the package and its tests, mutmut changes
# the code one small bug at a time and runs the fast unit tests against each; settings in pyproject.toml.
# MUTANTS narrows the run to some modules, e.g. make mutation MUTANTS='lenet_utils.loop.* lenet_utils.cli.*'
# The copy is emptied only when it holds the mark this recipe leaves (or is empty), so a MUTATION_DIR that names
# someone's folder is refused, not deleted; the mark goes first and stays, so a killed run is no one's folder.
MUTATION_DIR ?= $(or $(TMPDIR),/tmp)/lenet-utils-mutation
MUTATION_MARK := .made-by-make-mutation
MUTANTS ?=
mutation: $(VENV)/.installed  ## mutation testing of lenet_utils against the fast unit tests (slow; reports survivors)
	"$(BIN)/python" -m pip install -q -c constraints.txt mutmut
	@dir="$(MUTATION_DIR)"; \
	if [ -L "$$dir" ] || { [ -e "$$dir" ] && [ ! -f "$$dir/$(MUTATION_MARK)" ] && [ -n "$$(ls -A -- "$$dir")" ]; }; then \
	  echo "make mutation: $$dir exists and is not a copy this recipe made; remove it or set MUTATION_DIR" >&2; \
	  exit 1; \
	fi; \
	mkdir -p -- "$$dir" && touch -- "$$dir/$(MUTATION_MARK)" && \
	find "$$dir" -mindepth 1 -maxdepth 1 ! -name "$(MUTATION_MARK)" -exec rm -rf -- {} +
	cp -r lenet_utils booktools book tests pyproject.toml README.md _config.yml _toc.yml "$(MUTATION_DIR)/"
	cd "$(MUTATION_DIR)" && "$(CURDIR)/$(BIN)/mutmut" run $(MUTANTS) && "$(CURDIR)/$(BIN)/mutmut" results

$(VENV)/.installed: requirements.txt $(SOURCES)
	test -x $(BIN)/python || "$(PYTHON)" -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install -q --no-deps --force-reinstall .  # installed, not editable: imported as in Colab
	$(BIN)/python -m pip install -q -c constraints.txt -e ./booktools  # the build tooling, editable (not in Colab)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# npm's MathJax (served by the site, so formulas need no network) and axe-core (for the accessibility tests).
node_modules/.package-lock.json: package.json package-lock.json
	command -v npm >/dev/null || bash scripts/install-system-packages.sh nodejs npm
	npm ci --no-audit --no-fund

system-data:
	bash scripts/install-system-packages.sh dataset-fashion-mnist fonts-dejavu-core

system-browser:
	bash scripts/install-system-packages.sh chromium chromium-driver

help:  ## list the targets and what each does
	@awk -F ':.*## ' '/^[a-z-]+:.*## / { printf "  %-15s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

clean:  ## remove _build, where everything generated lives (a link there is removed, not followed)
	rm -rf -- "$(CURDIR)/_build"
