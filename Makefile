# Two commands on a fresh machine (only Python needed):
#   make lab    installs everything into .venv and opens the course in JupyterLab
#   make test   installs everything into .venv and runs the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.PHONY: lab test bench exercises clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) lessons/

# conftest.py pins every test process and notebook kernel to one BLAS thread.
test: $(STAMP)
	$(BIN)/python tools/ensure_browser.py
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

exercises: $(STAMP)
	$(BIN)/backproplab make-exercises

clean:
	rm -rf $(VENV) test-artifacts
