# Bürgerassistent: `make run` starts the assistant, `make test` runs the whole suite.
# Both set up everything they need on a fresh machine (Python 3.10 venv, packages, spaCy pipeline,
# trained model).

PYTHON_BOOTSTRAP ?= python3.10
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SPACY := build/spacy_de/meta.json

.PHONY: run test test-unpatched lint venv spacy train generate check-generated bench bench-discovery bench-reliability bench-replicas bench-forms bench-conversations bench-messengers clean system-packages webchat test-login-deps check-content evaluate evaluate-external review reload bench-training screenshots deploy-check synapse rabbitmq insights dashboard bench-matrix

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

# Web chat widget (webchat/widget, npm + esbuild) -> webchat/dist/, rebuilt when its sources change.
# node_modules also holds what the browser tests inject (axe-core, rasa-webchat).
WIDGET := webchat/dist/buergerassistent-chat.js
WIDGET_NPM := webchat/widget/node_modules/.package-lock.json
$(WIDGET_NPM): webchat/widget/package.json webchat/widget/package-lock.json
	@command -v npm >/dev/null || { echo "npm fehlt (Node.js 20 oder neuer); siehe README"; exit 1; }
	cd webchat/widget && npm ci --no-audit --no-fund --loglevel=error
	touch $(WIDGET_NPM)
$(WIDGET): $(WIDGET_NPM) webchat/widget/build.mjs $(wildcard webchat/widget/src/*.js)
	cd webchat/widget && npm run --silent build

webchat: $(WIDGET)

# npm test dependency of the login tests (oidc-provider, started by tests/login), from its lock.
LOGIN_NPM := tests/login/oidc_provider/node_modules/.package-lock.json
$(LOGIN_NPM): tests/login/oidc_provider/package.json tests/login/oidc_provider/package-lock.json
	@command -v npm >/dev/null || { echo "npm fehlt (Node.js 20 oder neuer); siehe README"; exit 1; }
	cd tests/login/oidc_provider && npm ci --no-audit --no-fund --loglevel=error
	touch $(LOGIN_NPM)

test-login-deps: $(LOGIN_NPM)

# Synapse (Matrix homeserver) for the Matrix tests, in its own venv from its own pins
# (tests/matrix/synapse-requirements.txt), so it never touches requirements.lock.
SYNAPSE_VENV := build/synapse-venv
SYNAPSE_STAMP := $(SYNAPSE_VENV)/.installed
$(SYNAPSE_STAMP): tests/matrix/synapse-requirements.txt
	@command -v $(PYTHON_BOOTSTRAP) >/dev/null || { echo "Python 3.10 fehlt ($(PYTHON_BOOTSTRAP)); siehe README"; exit 1; }
	test -x $(SYNAPSE_VENV)/bin/python || $(PYTHON_BOOTSTRAP) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet -r tests/matrix/synapse-requirements.txt
	touch $(SYNAPSE_STAMP)

synapse: $(SYNAPSE_STAMP)

# RabbitMQ for the insights tests (tests/insights_service): started when nothing listens on 5672.
rabbitmq: system-packages
	@bash -c 'echo > /dev/tcp/127.0.0.1/5672' 2>/dev/null || { \
	  echo "Starte RabbitMQ"; rabbitmq-server -detached; \
	  for i in $$(seq 60); do bash -c 'echo > /dev/tcp/127.0.0.1/5672' 2>/dev/null && exit 0; sleep 1; done; \
	  echo "RabbitMQ startet nicht"; exit 1; }

# Insights (docs/insights.md): the event consumer (needs INSIGHTS_BROKER_URL) and the staff dashboard.
insights: $(STAMP)
	$(PY) -m insights consume

dashboard: $(STAMP)
	$(PY) -m content.dashboard

generate: $(STAMP)
	$(PY) -m bot generate

check-generated: $(STAMP)
	$(PY) -m bot generate --check

train: $(SPACY)
	$(PY) -m bot train

run: $(SPACY) $(WIDGET)
	$(PY) -m bot run

# pytest exits with 5 when no test ran: that is a failure here, never a silent pass.
# Then the end-to-end conversation tests once more on plain Rasa (test-unpatched).
test: system-packages rabbitmq $(SPACY) $(WIDGET) $(LOGIN_NPM) $(SYNAPSE_STAMP)
	$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "FEHLER: pytest hat keinen Test ausgeführt"; fi; exit $$rc
	$(MAKE) --no-print-directory test-unpatched

# The end-to-end conversation tests with our Rasa speed fixes off (BA_RASA_PATCHES=0, which the
# stack passes on to the Rasa process): the fixes must not change what the assistant says.
test-unpatched: system-packages $(SPACY) $(WIDGET) $(LOGIN_NPM)
	BA_RASA_PATCHES=0 $(PY) -m pytest tests/e2e -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "FEHLER: pytest hat keinen Test ausgeführt"; fi; exit $$rc

# Structure and style: import rules (import-linter), lint and format (ruff); also part of `make test`.
lint: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(SPACY)
	$(PY) -m benchmarks.bench_rest

# 50 conversations at once through Matrix (real Synapse, E2EE) next to the REST channel.
bench-matrix: $(SPACY) $(SYNAPSE_STAMP)
	$(PY) -m benchmarks.bench_matrix $(ARGS)

bench-discovery: $(SPACY)
	$(PY) -m benchmarks.bench_discovery --with-nlu --nlu-cache build/discovery_intents.json

# scripted citizens fill every form over REST: completion rate and turns per form
bench-forms: $(SPACY)
	$(PY) -m benchmarks.bench_forms

# the frozen conversation scenarios (tests/data/conversations) played by simulated citizens over
# REST: success rate overall and per kind, submissions with unintended data (ARGS="--only form-07 --verbose")
bench-conversations: $(SPACY)
	$(PY) -m benchmarks.bench_conversations $(ARGS)

# Telegram and Threema (local doubles) next to REST in the same run: p50/p95 and messages per second.
bench-messengers: $(SPACY) system-packages
	$(PY) -m benchmarks.bench_messengers

# Submission under failure: 200 submissions, backend killed twice and 10 % HTTP 503.
bench-reliability: $(STAMP) system-packages
	$(PY) -m benchmarks.bench_reliability
	$(PY) -m benchmarks.bench_reliability_fit

# Two Rasa + two action servers behind HAProxy, PostgreSQL + Redis, one Rasa killed and a rolling
# update (docs/capacity.md). 40 conversations by default on 2 cores; ARGS="--conversations 200".
bench-replicas: $(SPACY) system-packages
	$(PY) -m benchmarks.bench_replicas $(ARGS)

# Content workflow for editors (docs/redaktion.md).
check-content: $(SPACY)
	$(PY) -m content.lint

evaluate: $(SPACY)
	$(PY) -m content.evaluate

# Our NLU pipeline vs Rasa's default pipeline, 5-fold CV on the Familienlotse data (shared/data/external-nlu).
evaluate-external: $(SPACY)
	$(PY) -m content.evaluate_external

review: $(STAMP)
	$(PY) -m content.review

reload: $(SPACY)
	$(PY) -m bot reload

bench-training: $(SPACY)
	$(PY) -m benchmarks.bench_training

# Screenshots of the web chat for the docs (docs/webchat.md), taken by its browser tests.
screenshots: system-packages $(SPACY) $(WIDGET)
	$(PY) -m pytest tests/browser/test_widget_presentation.py -q --screenshots

# Images, docker-compose.yml and the Kubernetes overlays, checked offline (docs/operations.md); also part of `make test`.
deploy-check: $(STAMP) $(SYNAPSE_STAMP)
	$(PY) -m pytest tests/deploy -q

clean:
	rm -rf build var webchat/dist
