# The two commands of the README. Both create the environment on first use and reuse it after.
#   make demo   the course pipeline on tiny offline models, on the CPU (installs only what it needs)
#   make test   every test, notebooks included (also builds llama.cpp's binding, once per machine)
#   make test-portable   make test twice more, as other CPUs compute: AVX2 and plain kernels, fresh caches
#   make gpu-check   the CUDA checks (tests/test_gpu.py), on a machine with a GPU
#   make colab-test  the course on a Colab twin: Python 3.13 with Colab's own package versions (make colab-twin)
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.medlearn-installed
LLAMA_CPP := $(VENV)/.llama-cpp-tried
# Tests and the demo never touch the Hub: any Hub call fails loudly instead of hanging.
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# The memory ledger books every load at the real model's T4 footprint; in tests, going over a T4 is an error.
BUDGET := MEDLEARN_GPU_BUDGET_GB=15

.PHONY: env demo test test-portable gpu-check colab-twin colab-test
env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml tools/install.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) tools/install.py --for cpu
	touch $(STAMP)

# llama.cpp's binding, compiled from source (about 5 min on 2 cores; pip keeps the wheel). The demo never
# uses it; a failed build is reported and the GGUF tests then skip, saying what to install.
$(LLAMA_CPP): $(STAMP)
	$(PY) tools/install.py --for llama-cpp
	touch $(LLAMA_CPP)

demo: $(STAMP)
	$(OFFLINE) $(PY) -m medlearn demo

test: $(STAMP) $(LLAMA_CPP)
	bash tools/install_browser.sh
	$(VENV)/bin/lint-imports --no-cache  # medlearn's layers (.importlinter): an upward import fails here, named
	$(OFFLINE) $(BUDGET) $(PY) -m pytest -v --nbval-lax tests notebooks

# The verdict of make test must not depend on this CPU's floating-point kernels: run it as an AVX2-only
# machine and as one with no vector extensions would (PyTorch's ATEN_CPU_CAPABILITY), each with a fresh
# cache so the tiny models are rebuilt under those kernels too. About twice make test's time, so CI runs
# make test alone; tolerances come from `python tools/cpu_spread.py` (notebooks/test_lesson_figures.py).
test-portable: $(STAMP) $(LLAMA_CPP)
	set -e; for kernels in avx2 default; do \
	    cache=$$(mktemp -d); echo "== make test with ATEN_CPU_CAPABILITY=$$kernels, MEDLEARN_CACHE=$$cache"; \
	    ATEN_CPU_CAPABILITY=$$kernels MEDLEARN_CACHE=$$cache $(MAKE) --no-print-directory test; rm -rf $$cache; \
	done

# On a CUDA machine: Unsloth's CUDA path in fp16 for each tiny family, and Llama-3.1-8B shapes in
# 4-bit measured beside the memory plan (tests/test_gpu.py; skipped without a GPU).
gpu-check: $(STAMP)
	$(OFFLINE) $(PY) -m pytest -v -s -m gpu tests/test_gpu.py

# A Colab twin (tools/colab_twin.py): Python 3.13 from pyenv with Colab's published versions of every package
# the course uses (tests/data/colab-runtime/), built once into .colab-twin/ (about 2 min and 6 GB; pip keeps
# the downloads). What cannot be the same: the package index's torch 2.11.0 is the CUDA 13.0 build where
# Colab's is cu128 (PyTorch's own index is not reachable), so Colab's cuda-*/nvidia-* pins are left out;
# Python is 3.13.0, Colab's 3.13.15. Neither touches a CPU run.
colab-twin: $(STAMP)
	$(PY) tools/colab_twin.py build

# From a clean clone, in a copy of the twin: the real Colab install twice (the second calls no pip), only the
# justified moves of Colab's packages, then offline medlearn runtime, medlearn demo and every notebook.
colab-test: colab-twin
	$(PY) tools/colab_twin.py test
