"""Which model a name stands for: the real one on a GPU, the tiny one of its family on a CPU."""
from dataclasses import dataclass
from pathlib import Path

from ..config import build_config
from ..precision import choose_precision
from ..record import read_run_info
from ..registry import MODELS, TINY_PREFIX, check_family, default_model, get_model
from .real import real_model_path
from .tiny import tiny_model_path


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

    use_tiny: "auto" picks the tiny model of the same family when there is no GPU, except for a model
    that runs on a CPU (registry: cpu_package), which loads its real weights; True always picks the tiny
    model; False never does. `tiny-FAMILY` names a tiny model directly.
    """
    if use_tiny not in ("auto", True, False):
        raise ValueError(f"use_tiny must be 'auto', True or False, not {use_tiny!r}.")
    if name.startswith(TINY_PREFIX):
        family = check_family(name[len(TINY_PREFIX):])
        return _tiny_choice(name, family, default_model(family).template)
    spec = get_model(name)
    if use_tiny is True:
        return _tiny_choice(name, spec.family, spec.template)
    if not cuda_available() and spec.runs_on_cpu:  # its real weights, built from a package's file
        return ModelChoice(name, str(real_model_path(name)), spec.family, spec.template, tiny=False)
    if use_tiny == "auto" and not cuda_available():
        return _tiny_choice(name, spec.family, spec.template)
    return ModelChoice(name, spec.hub_id, spec.family, spec.template, tiny=False)


def choose_model_or_adapter(name_or_path, use_tiny="auto"):
    """Like choose_model, but a folder saved by medlearn (base + LoRA adapter) is accepted too."""
    if Path(name_or_path).is_dir():
        base = ModelChoice(**read_run_info(name_or_path)["choice"])
        return ModelChoice(str(name_or_path), str(name_or_path), base.family, base.template, base.tiny)
    return choose_model(name_or_path, use_tiny)


def _tiny_choice(requested, family, template):
    return ModelChoice(requested, str(tiny_model_path(family)), family, template, tiny=True)


def course_decisions():
    """What medlearn decides for each course model on this machine: what loads and in which precision."""
    config = build_config()
    return [{"model": name, "loads": choose_model(name).source,
             "precision": choose_precision(config, spec.fp16_safe)} for name, spec in MODELS.items()]


def print_course_decisions(rows=None):
    rows = rows or course_decisions()
    width = max(len(row["model"]) for row in rows)
    for row in rows:
        print(f"{row['model']:{width}}  {row['precision']:4}  {row['loads']}")
    return rows
