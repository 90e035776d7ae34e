# Every target creates the virtual environment on first use and installs into it.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install train test test-quick bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,torch]'
	touch $(STAMP)

install: $(STAMP)

# The main job: download MNIST (once), train the default model, print test accuracy.
train: $(STAMP)
	$(VENV)/bin/ndgrad train $(ARGS)

# The whole test suite.
test: $(STAMP)
	$(PY) -m pytest -n 2 -q $(ARGS)

# The quick subset (a minute or two).
test-quick: $(STAMP)
	$(PY) -m pytest -n 2 -q -m "not slow" $(ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks $(ARGS)

# The API reference, generated from the docstrings by pdoc into $(DOCS_OUT) (open index.html).
DOCS_OUT ?= docs/api
docs: $(STAMP)
	$(PY) -m pdoc --docformat markdown --footer-text "ndgrad API reference" -o $(DOCS_OUT) autograd nn

clean:
	rm -rf $(VENV)
