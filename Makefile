# reportgen: two commands on a fresh machine.
#   make demo   set up, write the example data_store, build its site, print where it is
#   make test   set up and run the whole test suite (includes `make docs`)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= build/demo

.PHONY: demo test docs bench wheel gold clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,docs]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m reportgen example $(DEMO)/data_store --force
	$(PY) -m reportgen inspect $(DEMO)/data_store
	$(PY) -m reportgen build $(DEMO)/data_store -o $(DEMO)/site --force --config examples/catalog.toml
	@echo "demo site: $(abspath $(DEMO))/site/index.html"

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadgroup

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict -q -d build/docs-site

bench: $(STAMP)
	$(PY) -m bench

gold: $(STAMP)
	REPORTGEN_UPDATE_GOLD=1 $(PY) -m pytest -q tests -k gold

wheel: $(STAMP)
	$(PY) -m build --wheel --outdir dist .

clean:
	rm -rf build dist .pytest_cache
