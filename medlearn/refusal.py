"""The one reply the course teaches a medical assistant to give to a non-medical question.

A fixed sentence is easy to learn from a few hundred examples and easy to detect afterwards:
evaluation (medlearn.evaluation.offtopic) and the chat command both import it from here, so the
reply that is trained, the reply that is measured and the reply that is shown are the same string.
"""
import re

REFUSAL_REPLY = ("I'm sorry, but I can only help with medical and health questions. "
                 "Please ask me about symptoms, conditions, tests, treatments or medicines.")

# The first sentence is what marks a refusal; the second may be cut off by a generation limit.
REFUSAL_OPENING = REFUSAL_REPLY.split(". ")[0]


def normalize_reply(text):
    """Lower-case, straighten quotes and collapse whitespace, so formatting does not hide a match."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    return re.sub(r"\s+", " ", text).strip()


def is_refusal(text):
    """True when `text` opens with the course's refusal sentence (case, quotes and spacing ignored).

    Only the opening is compared: a reply that starts with the refusal is a refusal even if a
    length limit cut its ending, while a medical answer that merely mentions "medical questions"
    later on is not.
    """
    if not isinstance(text, str):
        raise ValueError(f"is_refusal expects the model's reply as a string, got {type(text).__name__}.")
    return normalize_reply(text).startswith(normalize_reply(REFUSAL_OPENING))
