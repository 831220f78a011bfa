"""Share a model on the Hugging Face Hub with a model card that says what it is and what it is not.

    write_model_card("outputs/run/adapter", sources=["medquad"])   # README.md (+ loss.png) in the folder
    push_folder("outputs/run/adapter", "my-name/medlearn-llama3")    # token from Colab secrets or HF_TOKEN

The token is read where it is needed and handed to huggingface_hub only: it is never printed,
returned, logged or written anywhere, and error messages are scrubbed of it.
"""
import json
import os
import shutil
import time
from pathlib import Path

from .artifacts import loss_png_path, stats_json_path

TOKEN_NAME = "HF_TOKEN"
NO_TOKEN = ("No Hugging Face token found, so nothing was pushed. On Colab: open the key icon (Secrets) "
            "in the left bar, add a secret named HF_TOKEN with a 'write' token from "
            "https://huggingface.co/settings/tokens and switch on notebook access. Elsewhere: set the "
            "environment variable HF_TOKEN. Never paste a token into a notebook cell.")

CARD_TEMPLATE = """---
{{ card_data }}
---

# {{ title }}

A LoRA fine-tune made in the medlearn course (Unsloth 4-bit QLoRA + TRL) for answering general
health questions in plain language. {{ what }}

> **Not a doctor.** {{ disclaimer }}

## Base model
`{{ base_model }}` ({{ family }} family), prompt format `{{ template }}`; stop tokens
{{ stop_tokens }}.

## Training data
{% for s in sources %}- **{{ s.name }}** (`{{ s.hub_id }}`): {{ s.description }} Licence: {{ s.license }}.
{% else %}- Not recorded. Pass the source names (`--dataset`) when pushing.
{% endfor %}
Check each dataset card's licence before you redistribute a model trained on it.

## Training configuration
| option | value |
|---|---|
{% for key, value in config %}| {{ key }} | {{ value }} |
{% endfor %}
{% if loss_plot %}## Loss

![training loss]({{ loss_plot }})
{% endif %}
{% if stats %}Final training loss {{ stats.final_loss }} after {{ stats.steps }} steps in
{{ stats.runtime_seconds }} s; held-out loss {{ stats.eval_loss_before }} before and
{{ stats.eval_loss_after }} after training.
{% endif %}
## Evaluation
{% for r in results %}- {{ r }}
{% else %}- No evaluation results were found for this model (run `medlearn eval`).
{% endfor %}
## Intended use
Learning and experimenting: how fine-tuning changes a model's medical answers. It is not for
diagnosis, treatment decisions or emergencies, and not for use with patients. It can state wrong
facts confidently. It was trained to decline non-medical questions only if the refusal mix was used.

## How to use
Load it with `medlearn chat --model <this folder>` (base model + adapter), or with PEFT on top of the
base model, rendering prompts with the base model's chat template.
"""

CONFIG_KEYS = ("max_seq_length", "load_in_4bit", "lora_r", "lora_alpha", "lora_dropout",
               "target_modules", "per_device_train_batch_size", "gradient_accumulation_steps",
               "learning_rate", "max_steps", "num_train_epochs", "optim", "precision_used", "seed")


def read_token():
    """The Hub token from Colab's secrets, else the HF_TOKEN environment variable, else None."""
    try:
        from google.colab import userdata  # only on Colab

        token = userdata.get(TOKEN_NAME)
        if token:
            return token
    except Exception:  # not on Colab, secret missing, or notebook access not granted
        pass
    return os.environ.get(TOKEN_NAME) or None


def has_token():
    return read_token() is not None


def scrub(text, token):
    """`text` with every occurrence of the token replaced, for error messages."""
    return text.replace(token, "***") if token else text


def source_rows(sources):
    from .data import get_source

    return [get_source(name) for name in (sources or [])]


def find_eval_results(model_dir, artifacts_dir="artifacts"):
    """One line per artifacts/eval_*.json made for this model folder."""
    lines = []
    for path in sorted(Path(artifacts_dir).glob("eval_*.json")):
        try:
            result = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if _same_folder(result.get("model_source"), model_dir):
            lines.append(describe_result(result))
    return lines


def _same_folder(source, model_dir):
    # Results name the folder they evaluated as it was typed; compare the folders themselves.
    return source is not None and Path(source).resolve() == Path(model_dir).resolve()


def describe_result(result):
    keys = ("accuracy", "macro_f1", "eval_loss", "perplexity", "declined_non_medical", "answered_medical")
    found = ", ".join(f"{k} {result[k]:.3f}" for k in keys if isinstance(result.get(k), (int, float)))
    return f"{result.get('title', result.get('benchmark'))}: {found} (n={result.get('n')})"


def write_model_card(folder, sources=None, artifacts_dir="artifacts", repo_id=None):
    """Write README.md (and loss.png when the run's plot exists) into `folder`; returns the card path."""
    from huggingface_hub import ModelCard, ModelCardData

    from .inference import DISCLAIMER
    from .record import read_run_info
    from .templates import get_template

    info = read_run_info(folder)
    choice, config = info["choice"], info.get("config", {})
    sources = sources or config.get("datasets") or []
    rows = source_rows(sources)
    loss_plot = _copy_loss_plot(folder, artifacts_dir, config.get("run_name"))
    base = config.get("source") or choice["source"]
    data = ModelCardData(base_model=None if choice["tiny"] else base, library_name="peft",
                         datasets=[s.hub_id for s in rows] or None, language="en",
                         tags=["medical", "medlearn", "unsloth", "lora", "trl"])
    card = ModelCard.from_template(
        data, template_str=CARD_TEMPLATE, title=repo_id or Path(folder).parent.name or "medlearn model",
        what=_what(choice), disclaimer=DISCLAIMER, base_model=config.get("model") or choice["requested"],
        family=choice["family"], template=choice["template"],
        stop_tokens=", ".join(f"`{t}`" for t in get_template(choice["template"]).stop_tokens),
        sources=rows, config=[(k, config[k]) for k in CONFIG_KEYS if k in config],
        loss_plot=loss_plot, stats=_read_stats(artifacts_dir, config.get("run_name")),
        results=find_eval_results(folder, artifacts_dir))
    path = Path(folder, "README.md")
    card.save(path)
    return path


def _what(choice):
    if choice["tiny"]:
        return ("This one was trained on a tiny offline stand-in model on a CPU, so its answers are "
                "noise: it shows the pipeline, not medical knowledge.")
    return "Trained on a free Colab T4."


def _copy_loss_plot(folder, artifacts_dir, run_name):
    plot = loss_png_path(artifacts_dir, run_name) if run_name else None
    if plot is None or not plot.exists():
        return None
    shutil.copyfile(plot, Path(folder, "loss.png"))
    return "loss.png"


def _read_stats(artifacts_dir, run_name):
    path = stats_json_path(artifacts_dir, run_name) if run_name else None
    if path is None or not path.exists():
        return None
    return json.loads(path.read_text())


def check_repo_id(repo_id):
    parts = (repo_id or "").split("/")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"repo_id must look like 'your-name/model-name'; got {repo_id!r}.")
    return repo_id


def push_folder(folder, repo_id, private=True, sources=None, artifacts_dir="artifacts"):
    """Write the model card, then upload `folder` (adapter or merged model) to a Hub model repo.

    Without a token, offline, or on a network error: a RuntimeError that says so (token scrubbed).
    """
    from huggingface_hub import HfApi, constants

    check_repo_id(repo_id)
    card = write_model_card(folder, sources, artifacts_dir, repo_id)
    token = read_token()
    if token is None:
        raise RuntimeError(NO_TOKEN + f" The model card is ready to check: {card}.")
    if constants.HF_HUB_OFFLINE:
        raise RuntimeError("Offline mode is on (HF_HUB_OFFLINE=1), so nothing was pushed. Unset it on a "
                           f"machine with internet access and push again. The model card is ready: {card}.")
    try:
        api = HfApi(token=token)
        url = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                          commit_message=f"medlearn upload {time.strftime('%Y-%m-%d %H:%M')}",
                          ignore_patterns=["checkpoint-*", "*.pt", "optimizer*"])
    except Exception as error:  # network, permission, name taken: one message, never the token
        raise RuntimeError(f"Pushing to {repo_id} failed: {scrub(str(error), token).splitlines()[0]} "
                           "Check the internet connection, that the token may write, and the repo name.") from None
    return str(url)
