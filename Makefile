# Two commands on a fresh machine: `make demo` and `make test`. Nothing but python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := demo

.PHONY: install browser demo test lint bench docs fuzz clean

$(STAMP): pyproject.toml hatch_build.py mmcheck/header/_walk.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# byte-compile now: with PYTHONDONTWRITEBYTECODE set, every run would recompile (start-up time)
	$(BIN)/python -m compileall -q mmcheck
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python -m mmcheck.testing.demo $(DEMO)
	$(BIN)/mmcheck inspect $(DEMO)/tinyllava-7b-f16.gguf $(DEMO)/mmproj-tinyllava-7b-f16.gguf
	@echo; echo "== 1. the projector with its own model: match (exit 0) =="
	$(BIN)/mmcheck pair $(DEMO)/tinyllava-7b-f16.gguf $(DEMO)/mmproj-tinyllava-7b-f16.gguf
	@echo; echo "== 2. the 7B projector with a 13B model: mismatch (exit 1) =="
	$(BIN)/mmcheck pair $(DEMO)/tinyllava-13b-f16.gguf $(DEMO)/mmproj-tinyllava-7b-f16.gguf || echo "exit code $$?"
	@echo; echo "== 3. same width, another lineage (Mistral-7B): likely-garbage (exit 1) =="
	$(BIN)/mmcheck pair $(DEMO)/mistral-7b-instruct-f16.gguf $(DEMO)/mmproj-tinyllava-7b-f16.gguf || echo "exit code $$?"

# The HTML report's test loads the page in Debian's chromium: installed once, when missing (as root,
# or through sudo). The test fails rather than skip without it.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package) for the HTML report's browser test"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

# pytest exits 5 when it collects no test; make treats that as a failure, as it must.
test: install browser
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check mmcheck tests benchmarks hatch_build.py
	$(BIN)/ruff format --check mmcheck tests benchmarks hatch_build.py
	$(BIN)/mypy

bench: install
	$(BIN)/python -m benchmarks.run

docs: install
	$(BIN)/python -m mmcheck.docsgen docs/rules.md

# Coverage-guided fuzzing (docs/fuzzing.md): atheris is installed on first use; each harness runs
# FUZZ_SECONDS (make fuzz FUZZ_SECONDS=3600). Corpus and crashes: .cache/fuzz/<harness>/.
FUZZ_SECONDS ?= 60
FUZZERS := fuzz_read_header fuzz_check_pair fuzz_config
fuzz: install
	@$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/python -m pip install --quiet atheris
	@failed=; for f in $(FUZZERS); do \
	  echo "== $$f ($(FUZZ_SECONDS) s)"; \
	  $(BIN)/python -m tests.fuzz.$$f -max_total_time=$(FUZZ_SECONDS) || failed="$$failed $$f"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in$$failed (see .cache/fuzz/*/artifacts/)"; exit 1; fi

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
