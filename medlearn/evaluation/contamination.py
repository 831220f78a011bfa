"""Contamination check: how many benchmark questions did the fine-tuned model already see in training?

MedTuned and similar instruction sets include exam questions from MedQA/PubMedQA-derived sources. A
model that trained on a test question scores it from memory, and its benchmark accuracy then
overstates what it learned. Before a fine-tuned model is scored, its training data (the datasets its
adapter folder names) is read again and every benchmark question is looked up in it.

Matching: both sides are normalised (Unicode NFKC, lower case, punctuation dropped, whitespace
collapsed). A question counts as seen when its normalised text equals a whole training message or one
line of one (instruction sets often put "Question: ...", the options and the answer on separate lines).
Hash lookups, so the full MedTuned set is checked in seconds; a question paraphrased in training is not
caught. The normaliser here is evaluation's own for now; medlearn.data has one for leak checks, and the
two are meant to become one.
"""
import json
import re
import unicodedata
from pathlib import Path

TRAINING_INFO_FILES = ("training_config.json", "medlearn_run.json")
MIN_CHARACTERS = 12  # shorter normalised texts ("yes", "a") would match by coincidence


def normalise_question(text):
    """Text reduced to what makes two copies of a question the same question."""
    text = unicodedata.normalize("NFKC", str(text or "")).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def training_datasets(adapter_folder):
    """The dataset names an adapter was trained on (training_config.json, else medlearn_run.json), or None."""
    for name in TRAINING_INFO_FILES:
        path = Path(adapter_folder, name)
        if not path.is_file():
            continue
        info = json.loads(path.read_text())
        config = info.get("config", info) if name == "medlearn_run.json" else info
        if config.get("datasets"):
            return list(config["datasets"])
    return None


def seen_texts(conversations):
    """Normalised messages and message lines of every non-assistant turn (what the model was asked)."""
    seen = set()
    for messages in conversations:
        for message in messages:
            if message["role"] == "assistant":
                continue
            content = message["content"] or ""
            for piece in [content] + content.splitlines():
                normalised = normalise_question(piece)
                if len(normalised) >= MIN_CHARACTERS:
                    seen.add(normalised)
    return seen


def count_seen(questions, seen):
    """(number of questions whose normalised text is in `seen`, their ids)."""
    ids = [item["id"] for item in questions if normalise_question(item["question"]) in seen]
    return len(ids), ids


def load_training_conversations(names, sample=False):
    """The conversations of the named sources, as training read them (samples or Hub)."""
    from ..data import load_source

    conversations = []
    for name in names:
        conversations += load_source(name, sample=sample)["messages"]
    return conversations


def contamination_report(questions, adapter_folder=None, training_data=None, sample=False):
    """A dict for the result JSON: which training data was checked and how many questions it holds.

    training_data: a Dataset with `messages` (the split trained on) checked directly; otherwise the
    sources named in the adapter folder are read again (`sample` as for training).
    """
    if training_data is not None:
        checked, conversations = "the training data given", training_data["messages"]
    else:
        names = training_datasets(adapter_folder)
        if not names:
            return {"checked": False, "reason": f"{adapter_folder} names no training datasets "
                                                 "(training_config.json / medlearn_run.json)"}
        checked = ", ".join(names) + (" (shipped samples)" if sample else "")
        try:
            conversations = load_training_conversations(names, sample)
        except (RuntimeError, OSError, ValueError) as error:  # offline, gated, renamed: say so, keep scoring
            return {"checked": False, "reason": f"could not read the training data {checked}: {error}"}
    count, ids = count_seen(questions, seen_texts(conversations))
    return {"checked": True, "training_data": checked, "questions_seen_in_training": count,
            "n": len(questions), "ids": ids}


def describe_contamination(report):
    if not report.get("checked"):
        return f"Contamination check skipped: {report['reason']}."
    return (f"Contamination check: {report['questions_seen_in_training']} of {report['n']} questions appear "
            f"in the training data ({report['training_data']}; normalised text).")
