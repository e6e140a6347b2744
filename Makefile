# Bürgerassistent: `make run` starts the assistant, `make test` runs the whole suite.
# Both set up everything they need on a fresh machine (Python 3.10 venv, packages, spaCy pipeline,
# trained model).

PYTHON_BOOTSTRAP ?= python3.10
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SPACY := build/spacy_de/meta.json

.PHONY: run test venv spacy train generate check-generated bench bench-discovery clean system-packages

$(STAMP): requirements.lock
	@command -v $(PYTHON_BOOTSTRAP) >/dev/null || { echo "Python 3.10 fehlt ($(PYTHON_BOOTSTRAP)); siehe README"; exit 1; }
	test -x $(PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24" wheel
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

venv: $(STAMP)

# Debian packages listed in .ci/apt-packages.txt (installed only when missing; needs root).
system-packages:
	@missing=$$(sed -e 's/#.*//' .ci/apt-packages.txt | xargs -r -n1 sh -c 'dpkg -s "$$0" >/dev/null 2>&1 || echo "$$0"'); \
	if [ -n "$$missing" ]; then \
	  echo "Installiere Systempakete: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(SPACY): $(STAMP) nlu/spacy_pipeline.py
	$(PY) -m nlu.spacy_pipeline

spacy: $(SPACY)

generate: $(STAMP)
	$(PY) -m bot generate

check-generated: $(STAMP)
	$(PY) -m bot generate --check

train: $(SPACY)
	$(PY) -m bot train

run: $(SPACY)
	$(PY) -m bot run

# pytest exits with 5 when no test ran: that is a failure here, never a silent pass.
test: system-packages $(SPACY)
	$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "FEHLER: pytest hat keinen Test ausgeführt"; fi; exit $$rc

bench: $(SPACY)
	$(PY) -m benchmarks.bench_rest

bench-discovery: $(SPACY)
	$(PY) -m benchmarks.bench_discovery

clean:
	rm -rf build var
