"""The run record written next to every adapter or merged model medlearn saves (medlearn_run.json).

It says what the folder was trained from (base model, family, template, configuration), so
`--model path/to/adapter` knows how to load it. Training writes it; models, memory, evaluation and
export read it, so it lives below all of them.
"""
import json
from dataclasses import asdict
from pathlib import Path

from .registry import MODELS

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
    spec = MODELS.get(choice.get("requested"))
    if spec is not None and choice.get("template") not in (None, spec.template):
        raise ValueError(f"The adapter in {folder} was trained on {spec.name} with the {choice['template']} "
                         f"prompt format, but {spec.name} uses {spec.template} (`medlearn prompts --family "
                         f"{spec.template}` shows it). Retrain it: medlearn train --model {spec.name} ...")
