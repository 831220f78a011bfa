"""The precision a run trains in: bf16 where the hardware computes it natively, else fp16, else fp32.

Decided once at the top of a run (medlearn.train) from the configuration and the model's fp16 safety,
then passed down: the model is loaded in `torch_dtype(precision)` and TRL gets the matching flags.
"""
from .runtime import native_bf16


def choose_precision(config, fp16_safe):
    """'bf16', 'fp16' or 'fp32' for this machine and model (a T4 has no native bf16)."""
    if config.precision != "auto":
        return config.precision
    import torch

    if torch.cuda.is_available():
        if native_bf16():  # not torch.cuda.is_bf16_supported(): it counts emulation (True on a T4)
            return "bf16"
        return "fp16" if fp16_safe else "fp32"
    import unsloth  # noqa: F401  (unsloth_zoo refuses to import before it)
    from unsloth_zoo.cpu.runtime import cpu_bf16_supported

    return "bf16" if cpu_bf16_supported() else "fp32"


def torch_dtype(precision):
    """The dtype FastLanguageModel loads the model in for a precision: the same one TRL trains in.

    Passed explicitly rather than left to Unsloth, so the model and TRL's fp16/bf16 flags can never
    disagree (Unsloth refuses to train an fp16 model with bf16=True).
    """
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]
