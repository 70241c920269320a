# The README's two commands: `make book` (set-up + build) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Data and checkpoints live in the checkout, so a clean clone trains from scratch and nothing leaks in.
export LENET_CACHE ?= $(CURDIR)/.cache
NOTEBOOKS := $(sort $(wildcard book/*.ipynb))
SOURCES := $(wildcard lenet_utils/*.py) pyproject.toml constraints.txt

.PHONY: book test lint colab notebooks student benchmark mutation system-data system-browser clean

book: $(VENV)/.installed node_modules/.package-lock.json system-data  ## set up everything and build the site into _build/html
	$(BIN)/jupyter-book build . -W -n --keep-going

test: lint book system-browser  ## run every test: lint, unit, data, nbval over book/, the built site in a browser
	$(BIN)/pytest

lint: $(VENV)/.installed  ## ruff over the package, tests, scripts, benchmarks and the notebooks; actionlint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/actionlint

notebooks: $(VENV)/.installed system-data  ## re-execute every chapter in place so the committed outputs are current
	@uptime
	cd book && for nb in $(notdir $(NOTEBOOKS)); do \
	  start=$$(date +%s); \
	  ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800 \
	    --ExecutePreprocessor.record_timing=False --ExecutePreprocessor.kernel_name=python3 $$nb || exit 1; \
	  echo "$$nb: $$(( $$(date +%s) - start )) s"; \
	done

colab: $(VENV)/.installed system-data  ## run every chapter alone under Colab's Python and packages (.ci/colab-pins.txt)
	bash scripts/colab_env.sh

student: $(VENV)/.installed  ## write the chapters without solutions, outputs or MyST syntax into student/ (only its own files)
	$(BIN)/python scripts/make_student_version.py book student

benchmark: $(VENV)/.installed system-data  ## time the original pipeline against lenet_utils and every chapter
	$(BIN)/python benchmarks/epoch_pipeline.py
	$(BIN)/python benchmarks/chapter_times.py

# Mutation testing (slow, so not part of `make test`): in a copy of the package and its tests, mutmut changes
# the code one small bug at a time and runs the fast unit tests against each; settings in pyproject.toml.
# MUTANTS narrows the run to some modules, e.g. make mutation MUTANTS='lenet_utils.loop.* lenet_utils.cli.*'
MUTATION_DIR ?= $(or $(TMPDIR),/tmp)/lenet-utils-mutation
MUTANTS ?=
mutation: $(VENV)/.installed  ## mutation testing of lenet_utils against the fast unit tests (slow; reports survivors)
	$(BIN)/python -m pip install -q -c constraints.txt mutmut
	rm -rf $(MUTATION_DIR) && mkdir -p $(MUTATION_DIR)
	cp -r lenet_utils tests pyproject.toml README.md $(MUTATION_DIR)/
	cd $(MUTATION_DIR) && $(CURDIR)/$(BIN)/mutmut run $(MUTANTS) && $(CURDIR)/$(BIN)/mutmut results

$(VENV)/.installed: requirements.txt $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install -q --no-deps --force-reinstall .
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

clean:
	rm -rf _build student
