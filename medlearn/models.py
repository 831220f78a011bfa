"""Choose and load a model: the real one by name on a GPU, the tiny one of its family on a CPU."""
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .registry import FAMILIES, TINY_PREFIX, check_family, default_model, get_model


@dataclass(frozen=True)
class ModelChoice:
    requested: str  # what the learner typed
    source: str  # what FastLanguageModel.from_pretrained loads: a Hub id or a local folder
    family: str
    template: str
    tiny: bool  # True when a tiny offline model stands in

    def describe(self):
        if Path(self.requested).is_dir():  # an adapter folder saved by medlearn
            base = f"the tiny offline {self.family} model" if self.tiny else f"a {self.family} model"
            return f"LoRA adapter {self.requested} on {base} (template {self.template})"
        if self.tiny and self.requested.startswith(TINY_PREFIX):
            return f"{self.requested} (tiny offline {self.family} model, template {self.template})"
        if self.tiny:
            return (f"{self.requested} -> tiny offline {self.family} model with the same "
                    f"template ({self.template}); on a GPU this loads the real model")
        return f"{self.requested} ({self.source}, template {self.template})"


def cuda_available():
    import torch

    return torch.cuda.is_available()


def choose_model(name, use_tiny="auto"):
    """Resolve a short name to what to load.

    use_tiny: "auto" picks the tiny model of the same family when there is no GPU; True always
    does; False never does. `tiny-FAMILY` names a tiny model directly.
    """
    if use_tiny not in ("auto", True, False):
        raise ValueError(f"use_tiny must be 'auto', True or False, not {use_tiny!r}.")
    if name.startswith(TINY_PREFIX):
        family = check_family(name[len(TINY_PREFIX):])
        return _tiny_choice(name, family, default_model(family).template)
    spec = get_model(name)
    if use_tiny is True or (use_tiny == "auto" and not cuda_available()):
        return _tiny_choice(name, spec.family, spec.template)
    return ModelChoice(name, spec.hub_id, spec.family, spec.template, tiny=False)


# Written next to every saved adapter, so `--model path/to/adapter` knows its family and template.
RUN_INFO_FILE = "medlearn_run.json"


def write_run_info(folder, choice, config=None):
    """Record what an adapter folder was trained from (the base model, family, template, config)."""
    info = {"choice": asdict(choice), "config": config or {}}
    Path(folder, RUN_INFO_FILE).write_text(json.dumps(info, indent=2, default=str))


def read_run_info(folder):
    path = Path(folder, RUN_INFO_FILE)
    if not path.exists():
        raise FileNotFoundError(f"{folder} is not a medlearn adapter folder: {RUN_INFO_FILE} is missing. "
                                "Pass a model name from `medlearn models` or a folder saved by medlearn.")
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is unreadable ({error}). Copy the adapter folder again, or retrain.") from None
    check_recorded_template(folder, info.get("choice", {}))
    return info


def check_recorded_template(folder, choice):
    """Refuse an adapter trained on a registry model in another prompt format than the model's own (as
    medlearn did for Mistral-7B-Instruct v0.2 before it had the v0.2 format): it learned turns the model
    never saw, so its answers would be trained on the wrong markers."""
    from .registry import MODELS

    spec = MODELS.get(choice.get("requested"))
    if spec is not None and choice.get("template") not in (None, spec.template):
        raise ValueError(f"The adapter in {folder} was trained on {spec.name} with the {choice['template']} "
                         f"prompt format, but {spec.name} uses {spec.template} (`medlearn prompts --family "
                         f"{spec.template}` shows it). Retrain it: medlearn train --model {spec.name} ...")


def choose_model_or_adapter(name_or_path, use_tiny="auto"):
    """Like choose_model, but a folder saved by medlearn (base + LoRA adapter) is accepted too."""
    if Path(name_or_path).is_dir():
        base = ModelChoice(**read_run_info(name_or_path)["choice"])
        return ModelChoice(str(name_or_path), str(name_or_path), base.family, base.template, base.tiny)
    return choose_model(name_or_path, use_tiny)


def _tiny_choice(requested, family, template):
    from .tiny import tiny_model_path

    return ModelChoice(requested, str(tiny_model_path(family)), family, template, tiny=True)


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
    from . import memory

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


__all__ = ["FAMILIES", "ModelChoice", "choose_model", "choose_model_or_adapter", "load_model",
           "check_4bit_supported", "write_run_info", "read_run_info"]
