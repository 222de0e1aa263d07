# Two commands on a fresh machine: `make demo` and `make test`.
# Each framework gets its own virtual environment (verl pins transformers<5.11, OpenRLHF 5.15.0).
PYTHON ?= python3
CORE := .venv
VERL := .venv-verl
ORLHF := .venv-openrlhf
TRL := .venv-trl
RAY := .venv-ray
PIP_FLAGS := --quiet --disable-pip-version-check
PYTEST_FLAGS ?=

.PHONY: demo test lint test-core test-verl test-openrlhf test-trl test-ray bench bench-reward browser clean

demo: $(CORE)/.installed
	$(CORE)/bin/rlsp-rewards demo

# -k: every environment's tests run even when an earlier one fails; the exit code still says so.
test:
	$(MAKE) -k lint test-core test-verl test-openrlhf test-trl test-ray

# ruff (lint and format) and mypy. mypy reads the package through a tree of links in build/,
# because the installed package maps rlsp_rewards.integrations onto the top-level integrations/.
LINTED := rlsp_rewards integrations tests examples
lint: $(CORE)/.installed
	$(CORE)/bin/ruff check $(LINTED)
	$(CORE)/bin/ruff format --check $(LINTED)
	rm -rf build/typecheck && mkdir -p build/typecheck/rlsp_rewards
	for f in rlsp_rewards/*; do ln -s "$$PWD/$$f" build/typecheck/rlsp_rewards/; done
	ln -s "$$PWD/integrations" build/typecheck/rlsp_rewards/integrations
	cd build/typecheck && ../../$(CORE)/bin/mypy --config-file ../../pyproject.toml --cache-dir ../../.mypy_cache -p rlsp_rewards

test-core: $(CORE)/.installed
	RLSP_TEST_FRAMEWORK=core $(CORE)/bin/python -m pytest $(PYTEST_FLAGS) --doctest-modules rlsp_rewards tests

test-verl: $(VERL)/.installed
	RLSP_TEST_FRAMEWORK=verl $(VERL)/bin/python -m pytest $(PYTEST_FLAGS) tests/integrations/verl tests/integrations/test_doctests.py

test-openrlhf: $(ORLHF)/.installed
	RLSP_TEST_FRAMEWORK=openrlhf $(ORLHF)/bin/python -m pytest $(PYTEST_FLAGS) tests/integrations/openrlhf/test_openrlhf_*.py tests/integrations/test_doctests.py

test-trl: $(TRL)/.installed
	RLSP_TEST_FRAMEWORK=trl $(TRL)/bin/python -m pytest $(PYTEST_FLAGS) tests/integrations/trl

# Debian's Chromium, for the report's browser test (tests/report/test_browser.py skips, saying
# why, where there is none). Needs root and apt-get; .ci/run runs it.
browser:
	command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Real Ray: a local two-node cluster (ray start) and ray.init(num_cpus=2); see docs/distributed.md.
test-ray: $(RAY)/.installed
	RLSP_TEST_FRAMEWORK=ray $(RAY)/bin/python -m pytest $(PYTEST_FLAGS) tests/distributed

# In the verl environment, so that verl's own math_verify scoring is measured side by side.
bench: $(VERL)/.installed
	$(VERL)/bin/rlsp-rewards bench

# The whole reward per preset at 1-64 KB beside the verifier, verl's math_verify, a real server.
bench-reward: $(VERL)/.installed
	$(VERL)/bin/rlsp-rewards bench --reward


$(CORE)/.installed: pyproject.toml
	$(PYTHON) -m venv $(CORE)
	$(CORE)/bin/pip install $(PIP_FLAGS) -U pip
	$(CORE)/bin/pip install $(PIP_FLAGS) -e ".[judge,server,tokenizer,plot,parquet,browser,dev]"
	touch $@

# torch first: the CPU wheel; an unpinned torch would pull a multi-GB CUDA build.
$(VERL)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VERL)
	$(VERL)/bin/pip install $(PIP_FLAGS) -U pip
	$(VERL)/bin/pip install $(PIP_FLAGS) torch==2.13.0
	$(VERL)/bin/pip install $(PIP_FLAGS) -e ".[verl,judge,server,dev]"
	# verl's default (v1) trainer runs on TransferQueue (verl's verl-core extra): the GDPO tests use it
	$(VERL)/bin/pip install $(PIP_FLAGS) "transferqueue>=0.1.10"
	touch $@

# openrlhf's own requirements build flash-attn (GPU only): install it without them.
$(ORLHF)/.installed: pyproject.toml
	$(PYTHON) -m venv $(ORLHF)
	$(ORLHF)/bin/pip install $(PIP_FLAGS) -U pip
	$(ORLHF)/bin/pip install $(PIP_FLAGS) torch==2.13.0
	$(ORLHF)/bin/pip install $(PIP_FLAGS) --no-deps openrlhf==0.11.2
	$(ORLHF)/bin/pip install $(PIP_FLAGS) transformers==5.15.0 aiohttp sympy pylatexenc numpy tqdm
	$(ORLHF)/bin/pip install $(PIP_FLAGS) -e ".[server,judge,openrlhf,dev]"
	touch $@

# torch first (the CPU wheel), then TRL itself: it pins its own transformers (5.24 here).
$(TRL)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TRL)
	$(TRL)/bin/pip install $(PIP_FLAGS) -U pip
	$(TRL)/bin/pip install $(PIP_FLAGS) torch==2.13.0
	$(TRL)/bin/pip install $(PIP_FLAGS) trl==1.16.0
	$(TRL)/bin/pip install $(PIP_FLAGS) -e ".[trl,judge,dev]"
	touch $@

$(RAY)/.installed: pyproject.toml
	$(PYTHON) -m venv $(RAY)
	$(RAY)/bin/pip install $(PIP_FLAGS) -U pip
	$(RAY)/bin/pip install $(PIP_FLAGS) -e ".[ray,judge,dev]"
	touch $@

clean:
	rm -rf $(CORE) $(VERL) $(TRL) $(ORLHF) $(RAY) .pytest_cache .hypothesis
