"""Test set-up: no Hub access, and one shared cache of tiny models for the whole run."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Set before any Hugging Face library is imported, so a Hub call fails loudly instead of hanging.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MEDLEARN_CACHE", str(REPO / ".cache"))
