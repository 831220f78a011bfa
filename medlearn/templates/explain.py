"""Show a format token by token, and say what is wrong with a prompt typed by hand.

The prompt notebook uses these to put the classic mistakes in front of learners: a literal
backslash-n, "[s]" typed for BOS, a double BOS, a missing end-of-turn token, stray text after it
(Gemma's "model"), and training text that differs from the inference prompt.
"""
from .labels import IGNORE, tokenize_conversation
from .render import render
from .specs import get_template


def describe_tokens(tokenizer, messages, template):
    """One dict per token of the training conversation: position, id, token text, trained or not."""
    row = tokenize_conversation(tokenizer, messages, template)
    specials = set(tokenizer.all_special_ids)
    return [{"position": position, "id": token_id, "text": tokenizer.decode([token_id]),
             "special": token_id in specials, "trained": label != IGNORE}
            for position, (token_id, label) in enumerate(zip(row["input_ids"], row["labels"]))]


def trained_spans(labels):
    """(start, end) of each run of trained positions in a label list."""
    spans, start = [], None
    for position, label in enumerate(list(labels) + [IGNORE]):
        if label != IGNORE and start is None:
            start = position
        elif label == IGNORE and start is not None:
            spans.append((start, position))
            start = None
    return spans


def find_prompt_mistakes(tokenizer, text, template, messages=None, add_generation_prompt=None):
    """Plain-language problems with a hand-made prompt `text`; an empty list when none are found.

    Give `messages` to also compare it with the template's own rendering of that conversation
    (add_generation_prompt defaults to True when the messages end with the user).
    """
    spec = get_template(template)
    problems = _literal_escapes(text) + _bos_problems(tokenizer, text, spec)
    problems += _end_of_turn_problems(tokenizer, text, spec)
    if messages is not None:
        problems += _differences(tokenizer, text, spec, messages, add_generation_prompt)
    return problems


def _literal_escapes(text):
    if "\\n" not in text:
        return []
    return [f"The text contains a literal backslash-n (\\\\n) at character {text.index(chr(92) + 'n')}: "
            "two characters, not a newline. The model never saw that during pre-training."]


def _bos_problems(tokenizer, text, spec):
    bos = tokenizer.bos_token
    reference = render(tokenizer, [{"role": "user", "content": "x"}], spec, add_generation_prompt=True)
    if bos is None or not reference.startswith(bos):
        return []
    if text.startswith(bos + bos):
        return [f"The text starts with BOS twice ({bos!r}{bos!r}); the model saw one BOS in training."]
    if not text.startswith(bos):
        return [f"The text starts with {text[:12]!r}, not the BOS token {bos!r}. A BOS typed as other "
                f"characters (like '[s]') is ordinary text, not the token id {tokenizer.bos_token_id}."]
    return []


def _end_of_turn_problems(tokenizer, text, spec):
    eot, problems = spec.end_of_turn, []
    last_reply = text.rsplit(spec.response_part.strip(), 1)
    if len(last_reply) == 2 and last_reply[1].strip() and not last_reply[1].rstrip().endswith(eot):
        problems.append(f"The last assistant reply does not end with the end-of-turn token {eot!r}: "
                        "a model trained on this never learns to stop.")
    openers = [marker.strip() for marker in (spec.instruction_part, spec.response_part)]
    openers += [t for t in (tokenizer.bos_token,) if t]
    for piece in text.split(eot)[1:]:
        rest = piece.lstrip()
        if rest and not any(rest.startswith(opener) for opener in openers):
            problems.append(f"After {eot!r} comes {rest[:20]!r}; only whitespace and the next turn "
                            f"({' or '.join(map(repr, openers))}) may follow the end of a turn.")
    return problems


def _differences(tokenizer, text, spec, messages, add_generation_prompt):
    if add_generation_prompt is None:
        add_generation_prompt = messages[-1]["role"] == "user"
    expected = render(tokenizer, messages, spec, add_generation_prompt=add_generation_prompt)
    if text == expected:
        return []
    at = next((i for i, (a, b) in enumerate(zip(text, expected)) if a != b), min(len(text), len(expected)))
    return [f"The text differs from the {spec.name} template's rendering at character {at}: it has "
            f"{text[at:at + 25]!r} where the template writes {expected[at:at + 25]!r}. Train and infer "
            "with the same rendering."]
