"""Train/eval split that never puts the same (normalized) question on both sides.

MedQuAD asks many questions twice with different answers; a row-level split would let the model
see an eval question during training and flatter the eval loss. So rows are grouped by their
normalized first question and whole groups go to one side.
"""
from .clean import normalize_text


def split_train_eval(dataset, eval_fraction=0.1, seed=3407):
    """DatasetDict(train=..., eval=...): deterministic for `seed`, no question on both sides."""
    import numpy as np
    import pandas as pd
    from datasets import DatasetDict

    if not 0 <= eval_fraction < 1:
        raise ValueError(f"eval_fraction must be at least 0 and below 1; got {eval_fraction}.")
    keys = question_keys(dataset)
    group_of_row, groups = pd.factorize(pd.Series(keys), sort=True)  # sorted: order-independent ids
    if eval_fraction > 0 and len(groups) < 2:
        raise ValueError(f"Cannot split {len(dataset)} rows with {len(groups)} distinct question(s); "
                         f"an eval set needs at least 2 distinct questions (or eval_fraction=0).")
    sizes = np.bincount(group_of_row, minlength=len(groups))
    order = np.random.default_rng(seed).permutation(len(groups))
    target = max(1, round(eval_fraction * len(dataset))) if eval_fraction > 0 else 0
    # Take shuffled groups until the eval side reaches its share; keep at least one for training.
    taken = np.searchsorted(np.cumsum(sizes[order]), target) + 1 if target else 0
    eval_groups = np.zeros(len(groups), dtype=bool)
    eval_groups[order[:min(taken, len(groups) - 1)]] = True
    in_eval = eval_groups[group_of_row]
    return DatasetDict(train=dataset.select(np.flatnonzero(~in_eval)),
                       eval=dataset.select(np.flatnonzero(in_eval)))


def question_keys(dataset):
    """The normalized first user turn of every row (batched)."""
    keyed = dataset.map(_keys_batch, batched=True, remove_columns=dataset.column_names,
                        desc="Grouping questions", load_from_cache_file=False)
    return keyed["_question"][:]


def _keys_batch(batch):
    keys = []
    for messages in batch["messages"]:
        users = [turn["content"] for turn in messages if turn["role"] == "user"]
        keys.append(normalize_text(users[0]) if users else "")
    return {"_question": keys}


# Held out for the off-topic evaluation; a stay-on-topic fine-tune trains on the other side.
QUESTIONS_EVAL_FRACTION = 0.2


def split_labelled_questions(sample=False, path=None, eval_fraction=QUESTIONS_EVAL_FRACTION, seed=3407):
    """The medical/non-medical questions, Dataset(text, label) per side, split leak-free.

    One split for everyone who uses them: the refusal training mix and the guard take `train`,
    the off-topic evaluation scores `eval`, so no question is both taught and tested.
    """
    from datasets import Dataset

    from .loaders import load_labelled_questions

    labelled = load_labelled_questions(sample=sample, path=path)
    rows = [{"messages": [{"role": "user", "content": text}], "text": text, "label": int(label)}
            for text, label in zip(labelled["text"], labelled["label"])]
    parts = split_train_eval(Dataset.from_list(rows), eval_fraction, seed)
    return parts.remove_columns("messages")
