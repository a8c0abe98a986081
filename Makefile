# The course's commands on a fresh machine (only Python >= 3.10 needed):
#   make lab    installs everything into .venv and opens the course in JupyterLab
#   make test   installs everything into .venv and runs the whole test suite
# Each target runs course.py (standard library only), which also works without make:
#   python course.py lab | test | bench | exercises | oldest | clean
PYTHON ?= python3
JOBS   ?= 2

.PHONY: lab test bench exercises oldest clean

lab test bench exercises oldest clean:
	JOBS=$(JOBS) $(PYTHON) course.py $@
