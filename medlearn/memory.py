"""Will it fit on a T4? A run's memory plan, and the ledger of the models alive in this process.

    plan = plan_memory("llama-3.1-8b-instruct", {"max_seq_length": 4096})
    print(plan.describe())          # each term, the peak, fits or not, and what to change
    free(result)                    # drop a TrainResult's model before loading the next one

Every load through medlearn.models.load_model is booked here at the footprint the real model has
on a T4, even when a tiny model stands in for it on a CPU, so a notebook that would hold three 8B
models at once is caught in CI. With MEDLEARN_GPU_BUDGET_GB set, going over it is an error;
otherwise a warning. The formula and its sources are in medlearn.footprint.
"""
import gc
import os
import warnings
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import footprint
from .config import TrainConfig, build_config
from .record import RUN_INFO_FILE, read_run_info
from .registry import MODELS, TINY_PREFIX, check_family, get_model

BUDGET_ENV = "MEDLEARN_GPU_BUDGET_GB"
BIG_MODEL_B = 6.0  # a 7-9B model: two of them at once is worth a warning on a T4


class MemoryBudgetError(RuntimeError):
    """Loading would go over MEDLEARN_GPU_BUDGET_GB."""


class MemoryWarning(UserWarning):
    """A run or a load that would not fit, or a second big model alive (no budget set)."""


# ---------------------------------------------------------------- which model, which GPU

def shape_of(model_name):
    """(registry name or tiny name it stands for, Shape) for a short name or tiny-FAMILY."""
    if model_name in footprint.SHAPES:
        return model_name, footprint.SHAPES[model_name]
    if model_name.startswith(TINY_PREFIX):
        return model_name, footprint.tiny_shape(check_family(model_name[len(TINY_PREFIX):]))
    get_model(model_name)  # an unknown name raises with the valid ones
    raise ValueError(f"No architecture facts for {model_name!r} in medlearn.footprint.SHAPES.")


def stands_for(name_or_folder, depth=0):
    """The registry (or tiny) model behind a name, an adapter folder or a merged folder."""
    if not Path(str(name_or_folder), RUN_INFO_FILE).is_file() or depth > 5:
        return str(name_or_folder)  # a name, or a folder medlearn did not write (a plain model)

    info = read_run_info(name_or_folder)
    merged_from = (info.get("config") or {}).get("merged_from")
    base = merged_from or info["choice"]["requested"]
    return base if base == str(name_or_folder) else stands_for(base, depth + 1)


def gpu_budget():
    """(GiB, where the figure comes from, strict): the env budget, else this GPU, else a T4."""
    value = os.environ.get(BUDGET_ENV)
    if value:
        try:
            return float(value), f"{BUDGET_ENV}={value}", True
        except ValueError:
            raise ValueError(f"{BUDGET_ENV}={value!r} is not a number of GB, e.g. 15.") from None
    import torch

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return props.total_memory / footprint.GIB, props.name, False
    return footprint.T4_GIB, "a free Colab T4 (no GPU here)", False


# ---------------------------------------------------------------- the plan

@dataclass
class MemoryPlan:
    model: str
    gpu_gb: float
    gpu: str  # where gpu_gb comes from
    parts: dict  # GiB per term of the peak (see medlearn.footprint.training_parts)
    alive: list = field(default_factory=list)  # Bookings of models already alive in this process
    advice: list = field(default_factory=list)

    @property
    def peak_gb(self):
        return round(footprint.peak_gib(self.parts), 2)

    @property
    def alive_gb(self):
        return round(sum(b.gib for b in self.alive), 2)

    @property
    def fits(self):
        return self.peak_gb + self.alive_gb <= self.gpu_gb

    def describe(self):
        lines = [f"Memory plan for {self.model} on {self.gpu} ({self.gpu_gb:.2f} GB):"]
        lines += [f"  {name:<18} {gib:6.2f} GB" for name, gib in self.parts.items() if gib]
        lines.append(f"  {'peak':<18} {self.peak_gb:6.2f} GB (a batch of full-length sequences; attention "
                     "scores and logits are never held at once, the larger counts)")
        if self.alive:
            lines.append(f"  {'already alive':<18} {self.alive_gb:6.2f} GB: {describe_alive(self.alive)}")
        lines.append("  fits" if self.fits else "  does NOT fit. Change one of:")
        lines += [f"    - {item}" for item in self.advice]
        return "\n".join(lines)

    def check(self):
        """Warn (or raise, with MEDLEARN_GPU_BUDGET_GB set) when the run would not fit."""
        if self.fits:
            return self
        if os.environ.get(BUDGET_ENV):
            raise MemoryBudgetError(self.describe())
        warnings.warn(self.describe(), MemoryWarning, stacklevel=2)
        return self


def plan_memory(model_name, config=None, gpu_gb=None):
    """The peak GPU memory of fine-tuning `model_name` with `config` and whether it fits.

    config: a TrainConfig, a dict of training knobs, or None for the defaults. gpu_gb: the memory
    to fit in; by default MEDLEARN_GPU_BUDGET_GB, else this GPU, else a free Colab T4.
    """
    config = _as_config(config)
    name, shape = shape_of(stands_for(model_name))
    budget, gpu, _ = gpu_budget()
    if gpu_gb is not None:
        budget, gpu = float(gpu_gb), "the GPU you named"
    plan = MemoryPlan(name, budget, gpu, _parts(shape, budget, config), alive_models())
    if not plan.fits:
        plan.advice = advise(name, config, budget, plan.alive)
    return plan


def _as_config(config):
    if config is None:
        return build_config()
    if isinstance(config, TrainConfig):
        return config
    if isinstance(config, dict):
        return build_config(**config)
    raise ValueError(f"config must be a TrainConfig, a dict of training options or None, not {type(config).__name__}.")


def _parts(shape, gpu_gb, config):
    return footprint.training_parts(
        shape, gpu_gb, max_seq_length=config.max_seq_length, batch_size=config.per_device_train_batch_size,
        lora_r=config.lora_r, target_modules=config.target_modules,
        gradient_checkpointing=config.use_gradient_checkpointing, optim=config.optim,
        load_in_4bit=config.load_in_4bit)


def advise(name, config, gpu_gb, alive=()):
    """What to change so the run fits: each suggestion is re-planned and only kept if it fits."""
    room = gpu_gb - sum(b.gib for b in alive)
    shape = shape_of(name)[1]

    def fits(changed):
        return footprint.peak_gib(_parts(shape, gpu_gb, changed)) <= room

    tips = []
    if alive:
        tips.append(f"free the models alive before training: {describe_alive(alive)} "
                    "(medlearn.memory.free(result), or del the variable, then release_models())")
    shortened = False
    for label, changed in _single_changes(config):
        is_length = label.startswith("max_seq_length=")
        if fits(changed) and not (is_length and shortened):  # only the longest length that fits
            tips.append(label)
            shortened = shortened or is_length
    for other, spec in MODELS.items():
        if spec.family == MODELS.get(name, spec).family and other != name and other in footprint.SHAPES:
            if footprint.peak_gib(_parts(footprint.SHAPES[other], gpu_gb, config)) <= room:
                tips.append(f"a smaller model of the family: {other} ({spec.params_b}B)")
    return tips or ["nothing short of a larger GPU: even the smallest settings here do not fit"]


def _single_changes(config):
    length = config.max_seq_length
    while length > 256:
        length //= 2
        yield f"max_seq_length={length}", replace(config, max_seq_length=length)
    if config.per_device_train_batch_size > 1:
        accumulation = config.gradient_accumulation_steps * config.per_device_train_batch_size
        yield (f"per_device_train_batch_size=1, gradient_accumulation_steps={accumulation} (same "
               "effective batch)", replace(config, per_device_train_batch_size=1,
                                           gradient_accumulation_steps=accumulation))
    if config.lora_r > 8:
        yield "lora_r=8 (and lora_alpha=8)", replace(config, lora_r=8, lora_alpha=8)
    if config.use_gradient_checkpointing != "unsloth":
        yield 'use_gradient_checkpointing="unsloth"', replace(config, use_gradient_checkpointing="unsloth")
    if "8bit" not in config.optim:
        yield 'optim="adamw_8bit"', replace(config, optim="adamw_8bit")
    if not config.load_in_4bit:
        yield "load_in_4bit=True", replace(config, load_in_4bit=True)


# ---------------------------------------------------------------- the ledger of live models

@dataclass
class Booking:
    label: str  # what was loaded: a name or a folder
    stands_for: str  # the registry (or tiny) model whose footprint is booked
    gib: float
    big: bool  # a 7-9B model
    ref: object = None  # weakref to the loaded model

    def is_alive(self):
        return self.ref is not None and self.ref() is not None

    def describe(self):
        shown = self.label if self.label == self.stands_for else f"{self.label} (as {self.stands_for})"
        return f"{shown} {self.gib:.1f} GB"


_BOOKINGS = []


def describe_alive(bookings):
    return "; ".join(b.describe() for b in bookings)


def alive_models(collect=False):
    """Bookings of the models loaded in this process that are still referenced somewhere."""
    if collect:
        gc.collect()  # models sit in reference cycles; a deleted one lingers until collected
    _BOOKINGS[:] = [b for b in _BOOKINGS if b.is_alive()]
    return list(_BOOKINGS)


def booking_for(choice, load_in_4bit=True):
    """What loading `choice` will hold: the real model's T4 footprint, even for a tiny stand-in."""
    name = stands_for(choice.requested)
    spec = MODELS.get(name)
    if name in footprint.SHAPES:
        # A tiny stand-in is booked as Colab loads the real model: in 4-bit (the notebooks only
        # drop 4-bit on a CPU, e.g. load_in_4bit=on_gpu()).
        four_bit = load_in_4bit or choice.tiny
        gib = footprint.resident_gib(footprint.SHAPES[name], four_bit)
    elif name.startswith(TINY_PREFIX):  # tiny-FAMILY named directly: its own size, measured once loaded
        gib = footprint.weights_gib(shape_of(name)[1], load_in_4bit=False)
    else:  # a model from outside the course: unknown until loaded, then measured
        gib = 0.0
    return Booking(str(choice.requested), name, gib, bool(spec and spec.params_b >= BIG_MODEL_B))


def reserve(choice, load_in_4bit=True):
    """Before a load: warn, or raise with a budget set, when it would not fit beside what is alive."""
    booking = booking_for(choice, load_in_4bit)
    alive = alive_models(collect=True)
    budget, where, strict = gpu_budget()
    total = footprint.CUDA_CONTEXT_GIB + sum(b.gib for b in alive) + booking.gib
    if total > budget:
        message = (f"Loading {booking.describe()} would hold {total:.1f} GB with what is alive: "
                   f"{describe_alive(alive) or 'nothing'} (+{footprint.CUDA_CONTEXT_GIB:.1f} GB CUDA "
                   f"context), over {budget:.2f} GB ({where}). Free what you are done with first: "
                   "medlearn.memory.free(result) for a TrainResult, or `del model` and "
                   "medlearn.memory.release_models().")
        if strict:
            raise MemoryBudgetError(message)
        warnings.warn(message, MemoryWarning, stacklevel=3)
    elif booking.big and any(b.big for b in alive):
        warnings.warn(f"Loading {booking.describe()} while {describe_alive([b for b in alive if b.big])} "
                      f"is alive: {total:.1f} GB of {budget:.2f} GB. If you are done with it, free it "
                      "first (medlearn.memory.free(result), or `del model`, then release_models()).",
                      MemoryWarning, stacklevel=3)
    return booking


def book(model, booking):
    """Record a loaded model; the booking ends when the model is garbage-collected."""
    if booking.stands_for not in footprint.SHAPES:  # tiny or outside the course: what it really holds
        booking.gib = sum(p.numel() * p.element_size() for p in model.parameters()) / footprint.GIB
    booking.ref = weakref.ref(model)
    _BOOKINGS.append(booking)
    return model


def free(*holders):
    """Drop models: a TrainResult, EvalModel or Chat loses its .model; then collect and empty CUDA's cache.

    A bare model cannot be taken from your variables: `del model` it, then call release_models().
    Returns the bookings still alive (and warns if one you passed is still referenced elsewhere).
    """
    dropped = []
    for holder in holders:
        if hasattr(holder, "model") and not _is_model(holder):
            dropped.append(holder.model)
            holder.model = None
        else:
            dropped.append(holder)
    refs = [weakref.ref(m) for m in dropped if m is not None]
    del dropped, holders
    alive = release_models()
    kept = [ref() for ref in refs if ref() is not None]
    if kept:
        warnings.warn(f"{len(kept)} model(s) you freed are still referenced elsewhere (another variable "
                      "or object holds them): `del` those variables too.", MemoryWarning, stacklevel=2)
    return alive


def _is_model(obj):
    return hasattr(obj, "parameters") and callable(obj.parameters)


def release_models():
    """Collect garbage and give CUDA's cached blocks back; returns the bookings still alive."""
    alive = alive_models(collect=True)
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return alive


# ---------------------------------------------------------------- estimate vs published

# Unsloth's own T4 notebooks (unslothai/notebooks, nb/), as printed by their "Show current memory
# stats" cell after loading + get_peft_model ("GB of memory reserved") and their "Show final memory
# and time stats" cell ("Peak reserved memory"), torch max_memory_reserved in GiB. All: r=16 on the
# 7 projections, batch 2 x grad-accum 4, max_seq_length 2048, adamw_8bit, Unsloth checkpointing.
PUBLISHED = [
    {"model": "llama-3.1-8b-instruct", "after_load": 5.984, "peak": 7.922,
     "source": "nb/Llama3.1_(8B)-Alpaca.ipynb (Unsloth 2024.8, Llama-3.1-8B base, Alpaca rows)"},
    {"model": "mistral-7b-instruct-v0.3", "after_load": 4.52, "peak": 6.289,
     "source": "nb/Mistral_v0.3_(7B)-Conversational.ipynb (Unsloth 2024.5, guanaco ShareGPT rows)"},
    {"model": "gemma-2-9b-it", "after_load": 6.576, "peak": 9.383,
     "source": "nb/Gemma2_(9B)-Alpaca.ipynb (Unsloth 2024.7, Gemma-2-9B base, Alpaca rows)"},
]


def compare_published():
    """Rows of our estimate beside each published T4 figure (torch-reserved: no CUDA context)."""
    rows = []
    for fact in PUBLISHED:
        shape = footprint.SHAPES[fact["model"]]
        parts = footprint.training_parts(shape, footprint.T4_GIB)
        loaded = parts["weights"] + parts["loading_overhead"] + parts["lora_weights"]
        peak = footprint.peak_gib(parts) - parts["cuda_context"]
        rows.append({"model": fact["model"], "after_load_published": fact["after_load"],
                     "after_load_estimate": round(loaded, 2), "peak_published": fact["peak"],
                     "peak_estimate": round(peak, 2), "source": fact["source"]})
    return rows


__all__ = ["plan_memory", "MemoryPlan", "free", "release_models", "alive_models", "compare_published",
           "MemoryBudgetError", "MemoryWarning"]
