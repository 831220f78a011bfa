"""Load a chosen model through Unsloth's FastLanguageModel, booked in the memory ledger."""
from pathlib import Path

from .. import memory
from .choice import cuda_available


def check_4bit_supported():
    """Raise a clear error if bitsandbytes 4-bit cannot run here; return True otherwise."""
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as error:
        raise RuntimeError("load_in_4bit=True needs bitsandbytes: run `pip install bitsandbytes` "
                           "(or the install cell), or pass load_in_4bit=False.") from error
    if cuda_available():
        return True
    import unsloth  # noqa: F401  (unsloth_zoo refuses to import before it)
    from unsloth_zoo.cpu.runtime import cpu_bnb_4bit_supported

    if not cpu_bnb_4bit_supported():
        raise RuntimeError("This CPU cannot run bitsandbytes' 4-bit kernels. Pass "
                           "load_in_4bit=False to train the tiny model in 16-bit, or use a GPU runtime.")
    return True


def load_model(choice, max_seq_length=2048, load_in_4bit=True, dtype=None):
    """Load `choice` through Unsloth's FastLanguageModel; returns (model, tokenizer).

    Every load is booked in medlearn.memory's ledger at the real model's T4 footprint (a tiny
    stand-in included): it warns, or raises under MEDLEARN_GPU_BUDGET_GB, before a load that
    would not fit beside the models still alive.
    """
    if load_in_4bit:
        check_4bit_supported()
    from unsloth import FastLanguageModel  # imported late: it patches transformers on import

    source = choice.source
    if choice.tiny and not Path(source).exists():  # a cache wiped after the choice was made
        raise FileNotFoundError(f"Tiny model folder {source} is missing; run `medlearn tiny {choice.family}`.")
    booking = memory.reserve(choice, load_in_4bit)
    model, tokenizer = FastLanguageModel.from_pretrained(
        source, max_seq_length=max_seq_length, load_in_4bit=load_in_4bit, dtype=dtype,
    )
    return memory.book(model, booking), tokenizer
