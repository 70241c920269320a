# The README's two commands: `make book` (set-up + build) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Data and checkpoints live in the checkout, so a clean clone trains from scratch and nothing leaks in.
export LENET_CACHE ?= $(CURDIR)/.cache
NOTEBOOKS := $(sort $(wildcard book/*.ipynb))
SOURCES := $(wildcard lenet_utils/*.py) pyproject.toml constraints.txt

.PHONY: book test lint notebooks student benchmark system-data system-browser clean

book: $(VENV)/.installed system-data  ## set up everything and build the site into _build/html
	$(BIN)/jupyter-book build . -W -n --keep-going

test: lint book system-browser  ## run every test: lint, unit, data, nbval over book/, the built site in a browser
	$(BIN)/pytest

lint: $(VENV)/.installed  ## ruff over the package, tests, scripts, benchmarks and the notebooks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

notebooks: $(VENV)/.installed system-data  ## re-execute every chapter in place so the committed outputs are current
	cd book && for nb in $(notdir $(NOTEBOOKS)); do \
	  ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800 \
	    --ExecutePreprocessor.record_timing=False --ExecutePreprocessor.kernel_name=python3 $$nb || exit 1; \
	done

student: $(VENV)/.installed  ## write the chapters without solutions or outputs into student/
	$(BIN)/python scripts/make_student_version.py book student

benchmark: $(VENV)/.installed system-data  ## time the original pipeline against lenet_utils and every chapter
	$(BIN)/python benchmarks/epoch_pipeline.py
	$(BIN)/python benchmarks/chapter_times.py

$(VENV)/.installed: requirements.txt $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install -q --no-deps --force-reinstall .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

system-data:
	bash scripts/install-system-packages.sh dataset-fashion-mnist fonts-dejavu-core

system-browser:
	bash scripts/install-system-packages.sh chromium chromium-driver

clean:
	rm -rf _build student
