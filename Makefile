# The two commands of the README. Both create the environment on first use and reuse it after.
#   make demo   the course pipeline on tiny offline models, on the CPU
#   make test   every test, notebooks included
#   make gpu-check   the CUDA checks (tests/test_gpu.py), on a machine with a GPU
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.medlearn-installed
# Tests and the demo never touch the Hub: any Hub call fails loudly instead of hanging.
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# The memory ledger books every load at the real model's T4 footprint; in tests, going over a T4 is an error.
BUDGET := MEDLEARN_GPU_BUDGET_GB=15

.PHONY: env demo test gpu-check
env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml tools/install.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) tools/install.py --for cpu
	touch $(STAMP)

demo: $(STAMP)
	$(OFFLINE) $(PY) -m medlearn demo

test: $(STAMP)
	bash tools/install_browser.sh
	$(OFFLINE) $(BUDGET) $(PY) -m pytest -v --nbval-lax tests notebooks

# On a CUDA machine: Unsloth's CUDA path in fp16 for each tiny family, and Llama-3.1-8B shapes in
# 4-bit measured beside the memory plan (tests/test_gpu.py; skipped without a GPU).
gpu-check: $(STAMP)
	$(OFFLINE) $(PY) -m pytest -v -s -m gpu tests/test_gpu.py
