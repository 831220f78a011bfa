"""Accuracy and macro-F1 of predicted option indices against gold option indices."""


def accuracy(golds, preds):
    check_same_length(golds, preds)
    return sum(g == p for g, p in zip(golds, preds)) / len(golds)


def macro_f1(golds, preds):
    """Mean per-class F1 over every class that is a gold label or a prediction (scikit-learn's default).

    A class nobody predicted and nobody needed cannot be scored, so it is left out rather than
    counted as 0 or 1.
    """
    check_same_length(golds, preds)
    classes = sorted(set(golds) | set(preds))
    return sum(f1_for_class(golds, preds, c) for c in classes) / len(classes)


def f1_for_class(golds, preds, label):
    true_pos = sum(g == label and p == label for g, p in zip(golds, preds))
    predicted = sum(p == label for p in preds)
    actual = sum(g == label for g in golds)
    return 2 * true_pos / (predicted + actual) if predicted + actual else 0.0


def check_same_length(golds, preds):
    if not golds:
        raise ValueError("No questions to score: the gold label list is empty.")
    if len(golds) != len(preds):
        raise ValueError(f"{len(preds)} predictions for {len(golds)} gold labels; they must match one to one.")


def wilson_interval(correct, n, z=1.96):
    """A rough 95% interval for an accuracy of correct/n (Wilson score interval).

    Small benchmark samples have wide intervals: a 2-point change on 24 questions means nothing.
    """
    import math

    if n <= 0:
        raise ValueError(f"An interval needs at least one question; n={n}.")
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half
