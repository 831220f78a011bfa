"""Test set-up: no Hub access, and one shared cache of tiny models for the whole run."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Set before any Hugging Face library is imported, so a Hub call fails loudly instead of hanging.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MEDLEARN_CACHE", str(REPO / ".cache"))


def measured(name, value):
    """Print a float that a test holds to a tolerance, so `tools/cpu_spread.py` can collect how far it moves
    between CPU settings (pytest shows it with -s); returns the value."""
    print(f"MEASURED {name}: {value:.6g}", flush=True)
    return value


def train_tiny_adapter(root, run_name, max_steps=4, model="tiny-llama-3"):
    """A few steps of a tiny model on the MedQuAD sample: a real adapter folder for the 'use' tests."""
    import unsloth  # noqa: F401  (first: it patches transformers)
    from medlearn.data import prepare_dataset
    from medlearn.demo import TINY_KNOBS
    from medlearn.train import train

    knobs = dict(TINY_KNOBS, max_steps=max_steps, save_steps=100, artifacts_dir=str(root / "artifacts"),
                 output_dir=str(root / "outputs"))
    return train(model, prepare_dataset(["medquad"], sample=True).train, None,
                 run_name=run_name, **knobs)


@pytest.fixture(scope="session")
def smollm2_run(tmp_path_factory):
    """The demo's fine-tune of a real model, SmolLM2-135M-Instruct (20 steps, about 40 s), trained once for
    the tests that use a real fine-tune (GGUF export, the web page)."""
    import unsloth  # noqa: F401  (first: it patches transformers)
    from medlearn.data import prepare_dataset
    from medlearn.demo import DEMO_SOURCES, REAL_CPU_KNOBS
    from medlearn.train import train

    root = tmp_path_factory.mktemp("smollm2")
    knobs = dict(REAL_CPU_KNOBS, save_steps=100, artifacts_dir=str(root / "artifacts"), output_dir=str(root / "outputs"))
    return train("smollm2-135m-instruct", prepare_dataset(list(DEMO_SOURCES), sample=True).train, None,
                 run_name="smollm2", **knobs)


@pytest.fixture(scope="session")
def data():
    """The MedQuAD sample split 80/20: the training and resume tests' shared rows."""
    from medlearn.data import prepare_dataset

    return prepare_dataset(["medquad"], sample=True, eval_fraction=0.2)
