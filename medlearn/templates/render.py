"""Check a conversation, give a tokenizer its chat template, and render text through it.

Every prompt in the course comes out of `tokenizer.apply_chat_template`: a real instruct tokenizer
keeps the template its publisher wrote; a tokenizer without one (base and tiny models) gets the
format's template from Unsloth's `get_chat_template`. Nothing here glues markers onto text by hand.
"""
from .specs import ROLES, get_template

# A tokenizer we gave a template remembers which, so a later call for another format replaces it.
TAG = "_medlearn_template"


def validate_conversation(messages, template, merge_system=True, ending=None):
    """Raise ValueError naming the message index and the rule it breaks; return None when fine.

    ending: "assistant" for training rows, "user" for a generation prompt, None for either.
    merge_system=False forbids folding a system prompt into the first user turn.
    """
    spec = get_template(template)
    if not isinstance(messages, (list, tuple)) or not messages:
        raise ValueError(f"A conversation must be a non-empty list of messages; got {messages!r}.")
    for index, message in enumerate(messages):
        _check_message(index, message)
    first = 1 if messages[0]["role"] == "system" else 0
    if first and spec.system_mode == "merge" and not merge_system:
        raise ValueError(
            f"message 0: the {spec.name} template has no system role and merge_system=False forbids "
            "folding the system prompt into the first user turn. Remove it or pass merge_system=True.")
    _check_alternation(messages, first)
    last = messages[-1]["role"]
    if ending is not None and last != ending:
        raise ValueError(
            f"message {len(messages) - 1}: the conversation must end with a message from the {ending} here "
            f"(a training row ends with the assistant's reply, a prompt with the user's turn); got {last!r}.")


def _check_message(index, message):
    if not isinstance(message, dict) or "role" not in message or "content" not in message:
        raise ValueError(f"message {index}: needs the keys 'role' and 'content'; got {message!r}.")
    if message["role"] not in ROLES:
        raise ValueError(f"message {index}: unknown role {message['role']!r}. "
                         f"Valid roles: {', '.join(ROLES)}.")
    content = message["content"]
    if not isinstance(content, str) or not content.strip():
        raise ValueError(f"message {index} ({message['role']}): empty content {content!r}; "
                         "every message needs some text.")


def _check_alternation(messages, first):
    # After an optional system prompt: user, assistant, user, ... and nothing else.
    if len(messages) == first:
        raise ValueError("message 0: a system prompt alone is not a conversation; add a user message.")
    for index in range(first, len(messages)):
        role = messages[index]["role"]
        if role == "system":
            raise ValueError(f"message {index}: a system prompt is allowed only as message 0.")
        expected = "user" if (index - first) % 2 == 0 else "assistant"
        if role != expected:
            raise ValueError(f"message {index}: expected role {expected!r} but got {role!r}. Roles must "
                             "alternate user/assistant, starting with user.")


def fold_system(messages, template):
    """For formats without a system role, move the system prompt into the first user message.

    This joins two message contents (data), not prompt markers: the template still adds every marker.
    """
    spec = get_template(template)
    if spec.system_mode != "merge" or messages[0]["role"] != "system":
        return [dict(m) for m in messages]
    merged = {"role": "user", "content": "\n\n".join([messages[0]["content"], messages[1]["content"]])}
    return [merged] + [dict(m) for m in messages[2:]]


def prepare_tokenizer(tokenizer, template, force=False):
    """Return a tokenizer that renders `template` and whose EOS is the format's end-of-turn token.

    A tokenizer with its own chat template keeps it unless force=True (or unless we installed another
    format's template earlier). Calling it twice changes nothing the second time.
    """
    spec = get_template(template)
    ours = getattr(tokenizer, TAG, None)
    if force or tokenizer.chat_template is None or (ours is not None and ours != spec.name):
        from unsloth.chat_templates import get_chat_template

        # map_eos_token=False: Unsloth would otherwise swap token ids in the vocabulary; we only point
        # the eos attribute at the end-of-turn token below, so no id changes meaning.
        tokenizer = get_chat_template(tokenizer, spec.unsloth_name, map_eos_token=False)
        setattr(tokenizer, TAG, spec.name)
    _align_eos(tokenizer, spec)
    return tokenizer


def _align_eos(tokenizer, spec):
    # The eos the model learns to emit after an answer, and the one TRL checks, must end a turn.
    vocab = tokenizer.get_vocab()
    if spec.end_of_turn not in vocab:
        raise ValueError(
            f"The {spec.name} template ends a turn with {spec.end_of_turn!r}, which this tokenizer does "
            f"not have as a token. Use a template of the tokenizer's family (the {spec.family} family).")
    if tokenizer.eos_token != spec.end_of_turn:
        tokenizer.eos_token = spec.end_of_turn


def render(tokenizer, messages, template, add_generation_prompt=False, merge_system=True):
    """The conversation as text, exactly as the tokenizer's chat template writes it (BOS included)."""
    spec = get_template(template)
    validate_conversation(messages, spec, merge_system, "user" if add_generation_prompt else None)
    _check_prepared(tokenizer, spec)
    return tokenizer.apply_chat_template(
        fold_system(messages, spec), tokenize=False, add_generation_prompt=add_generation_prompt,
        **dict(spec.chat_template_kwargs))


def _check_prepared(tokenizer, spec):
    if tokenizer.chat_template is None:
        raise ValueError(f"This tokenizer has no chat template. Call "
                         f"prepare_tokenizer(tokenizer, {spec.name!r}) first and use what it returns.")
    ours = getattr(tokenizer, TAG, None)
    if ours is not None and ours != spec.name:
        raise ValueError(f"This tokenizer was prepared for the {ours!r} template, not {spec.name!r}. "
                         f"Call prepare_tokenizer(tokenizer, {spec.name!r}) first.")


def tiny_tokenizer(template):
    """The tiny offline tokenizer of the template's family, prepared for the template."""
    import unsloth  # noqa: F401  (patches transformers; must come first)
    from transformers import AutoTokenizer

    from ..tiny import tiny_model_path

    spec = get_template(template)
    return prepare_tokenizer(AutoTokenizer.from_pretrained(tiny_model_path(spec.family)), spec)
