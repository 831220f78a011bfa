"""What a model must beat, computed on the very questions it was scored on.

majority: always answer the most common gold label of these questions (ties: the earliest option).
random:   pick uniformly among the k options. Its accuracy is the expectation 1/k; its macro-F1 is
          computed from the expected confusion counts (precision of class c = share of gold c,
          recall = 1/k), which is what the F1 of a long run of random guesses tends to.
"""
from collections import Counter

from .metrics import accuracy, macro_f1

BASELINES = ("majority", "random")


def majority_label(golds):
    counts = Counter(golds)
    return min(counts, key=lambda label: (-counts[label], label))


def majority_baseline(golds):
    """Accuracy and macro-F1 of always predicting the most common gold label."""
    preds = [majority_label(golds)] * len(golds)
    return {"accuracy": accuracy(golds, preds), "macro_f1": macro_f1(golds, preds),
            "predicts": majority_label(golds)}


def random_baseline(golds, num_options):
    """Expected accuracy and macro-F1 of uniform random guessing among `num_options` options."""
    if not golds:
        raise ValueError("No questions to score: the gold label list is empty.")
    if num_options < 2 or any(not 0 <= g < num_options for g in golds):
        raise ValueError(f"Gold labels must lie in 0..{num_options - 1} for {num_options} options.")
    counts = Counter(golds)
    recall = 1 / num_options
    f1s = []
    for label in range(num_options):  # random guessing predicts every option, so every class counts
        precision = counts[label] / len(golds)
        f1s.append(2 * precision * recall / (precision + recall))
    return {"accuracy": recall, "macro_f1": sum(f1s) / num_options}


def baselines_for(golds, num_options):
    """Both baselines for one set of questions."""
    return {"majority": majority_baseline(golds), "random": random_baseline(golds, num_options)}


def check_baseline(name):
    if name not in BASELINES:
        raise ValueError(f"Unknown baseline {name!r}. Valid baselines: {', '.join(BASELINES)}.")
    return name
