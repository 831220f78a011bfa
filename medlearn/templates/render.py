"""Check a conversation, give a tokenizer its chat template, and render text through it.

Every prompt in the course comes out of `tokenizer.apply_chat_template`: a real instruct tokenizer
keeps the template its publisher wrote when it agrees with the vendor's encoder; a tokenizer without
one (base and tiny models) gets the format's template: medlearn's own vendor-exact one for Llama-2 and
Mistral (formats.py), Unsloth's `get_chat_template` for the others. Nothing here glues markers onto text.
"""
from .encode import encode_text
from .specs import ROLES, SAMPLE_CONVERSATION, get_template

# A tokenizer we gave a template remembers which, so a later call for another format replaces it.
TAG = "_medlearn_template"


def validate_conversation(messages, template, merge_system=True, ending=None):
    """Raise ValueError naming the message index and the rule it breaks; return None when fine.

    ending: "assistant" for training rows, "user" for a generation prompt, None for either.
    merge_system=False forbids folding a system prompt into a user turn (formats without a system role).
    """
    spec = get_template(template)
    if not isinstance(messages, (list, tuple)) or not messages:
        raise ValueError(f"A conversation must be a non-empty list of messages; got {messages!r}.")
    for index, message in enumerate(messages):
        _check_message(index, message)
    first = 1 if messages[0]["role"] == "system" else 0
    if first and spec.system_mode != "native" and not merge_system:
        where = "last" if spec.system_mode == "merge-last" else "first"
        raise ValueError(
            f"message 0: the {spec.name} template has no system role and merge_system=False forbids "
            f"folding the system prompt into the {where} user turn. Remove it or pass merge_system=True.")
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
    """For formats without a system role, move the system prompt into a user message.

    It joins the first user message ("merge") or the last one ("merge-last": Mistral v3, whose own
    encoder places it there, so a model tuned on Mistral's format reads it just before the question it
    answers). This joins two message contents (data), not prompt markers: the template adds every marker.
    """
    spec = get_template(template)
    copies = [dict(m) for m in messages]
    if spec.system_mode == "native" or copies[0]["role"] != "system":
        return copies
    system, turns = copies[0]["content"], copies[1:]
    users = [index for index, message in enumerate(turns) if message["role"] == "user"]
    target = users[-1] if spec.system_mode == "merge-last" else users[0]
    turns[target]["content"] = "\n\n".join([system, turns[target]["content"]])
    return turns


def prepare_tokenizer(tokenizer, template, force=False):
    """Return a tokenizer that renders `template` and whose EOS is the format's end-of-turn token.

    A tokenizer with its own chat template keeps it unless force=True, unless we installed another
    format's template earlier, or unless medlearn has a vendor-exact template for the format and the
    tokenizer's own one gives other token ids (old Llama-2 and Mistral Hub templates): then medlearn's
    replaces it, and says so once. Calling it twice changes nothing the second time.
    """
    spec = get_template(template)
    ours = getattr(tokenizer, TAG, None)
    if force or tokenizer.chat_template is None or (ours is not None and ours != spec.name):
        tokenizer = _install(tokenizer, spec)
    elif ours is None and spec.chat_template and _own_template_differs(tokenizer, spec):
        _say_once(spec)
        tokenizer = _install(tokenizer, spec)
    _align_eos(tokenizer, spec)
    return tokenizer


def _install(tokenizer, spec):
    if spec.chat_template:
        tokenizer.chat_template = spec.chat_template
    else:
        from unsloth.chat_templates import get_chat_template

        # map_eos_token=False: Unsloth would otherwise swap token ids in the vocabulary; we only point
        # the eos attribute at the end-of-turn token (_align_eos), so no id changes meaning.
        tokenizer = get_chat_template(tokenizer, spec.unsloth_name, map_eos_token=False)
    setattr(tokenizer, TAG, spec.name)
    return tokenizer


def _own_template_differs(tokenizer, spec):
    # One training row and one prompt of the sample conversation, as token ids (tokenized the way
    # medlearn tokenizes), through both templates.
    for messages, generation in ((SAMPLE_CONVERSATION, False), (SAMPLE_CONVERSATION[:-1], True)):
        folded = fold_system(messages, spec)
        try:
            own = tokenizer.apply_chat_template(folded, tokenize=False, add_generation_prompt=generation)
        except Exception:  # noqa: BLE001 (a template that refuses the conversation differs from ours)
            return True
        exact = tokenizer.apply_chat_template(folded, chat_template=spec.chat_template, tokenize=False,
                                              add_generation_prompt=generation)
        if encode_text(tokenizer, own.rstrip()) != encode_text(tokenizer, exact.rstrip()):
            return True
    return False


_ANNOUNCED = set()


def _say_once(spec):
    if spec.name not in _ANNOUNCED:
        _ANNOUNCED.add(spec.name)
        print(f"medlearn: this model's own chat template writes the {spec.name} format with other token "
              f"ids than {spec.reference}; using medlearn's vendor-exact {spec.name} template instead.")


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

    from ..models.tiny import tiny_model_path

    spec = get_template(template)
    return prepare_tokenizer(AutoTokenizer.from_pretrained(tiny_model_path(spec.family)), spec)
