"""Training text and labels: exactly one BOS, the end-of-turn token last, loss on answers only.

The same text reaches the model whether TRL's SFTTrainer tokenizes the "text" column or
`tokenize_conversation` tokenizes a conversation here, and the same Unsloth masking decides which
tokens are trained in both, so evaluation and training never disagree about a row.
"""
from .encode import adds_bos, encode_text
from .render import render, validate_conversation
from .specs import get_template

IGNORE = -100  # the label PyTorch's cross-entropy skips


def training_text(tokenizer, messages, template):
    """The rendered conversation as SFTTrainer should receive it.

    The chat template writes BOS, and TRL tokenizes "text" with tokenizer(text), whose post-processor
    adds another: so the rendered BOS is left to the tokenizer. Whitespace after the final end-of-turn
    token is dropped so the text ends with EOS and TRL does not append a second one.
    """
    spec = get_template(template)
    validate_conversation(messages, spec, ending="assistant")
    text = render(tokenizer, messages, spec)
    if adds_bos(tokenizer) and text.startswith(tokenizer.bos_token):
        text = text[len(tokenizer.bos_token):]
    text = text.rstrip()
    if not text.endswith(tokenizer.eos_token):
        raise RuntimeError(f"The {spec.name} template ended this conversation with {text[-30:]!r}, not "
                           f"with the end-of-turn token {tokenizer.eos_token!r}; was the tokenizer made "
                           "by prepare_tokenizer?")
    return text


def response_masker(tokenizer, template):
    """Unsloth's train_on_responses_only as a function over a batch of input_ids."""
    from unsloth.chat_templates import train_on_responses_only

    spec = get_template(template)
    return train_on_responses_only(None, instruction_part=spec.instruction_part,
                                   response_part=spec.response_part, tokenizer=tokenizer,
                                   return_function=True, force_match=markers_match_as_written(tokenizer, spec))


def markers_match_as_written(tokenizer, template):
    """True when the format's markers keep their own token ids inside a conversation.

    Unsloth matches the markers exactly by default (force_match=True). SentencePiece vocabularies
    split a plain-text marker after a newline differently from the marker alone (Alpaca's
    "### Response:" is "▁###" alone, "##" "#" after "\n\n" on Llama-2's vocabulary), so there the
    exact ids never occur and every label would be masked; force_match=False lets Unsloth match the
    marker's stable core ("▁Response" ":") instead.
    """
    from .specs import SAMPLE_CONVERSATION

    spec = get_template(template)
    ids = tokenizer(training_text(tokenizer, SAMPLE_CONVERSATION, spec)).input_ids
    for marker in (spec.instruction_part, spec.response_part):
        part = tokenizer(marker, add_special_tokens=False).input_ids
        if not any(ids[i:i + len(part)] == part for i in range(len(ids) - len(part) + 1)):
            return False
    return True


def encode_prompt(tokenizer, messages, template):
    """Token ids of the generation prompt for `messages`: the prompt a model answers at inference.

    Tokenized exactly as a training row is (encode_text), so the ids a model is trained on after a
    question are the ids it is given at inference, whatever the tokenizer's `legacy` flag.
    """
    return encode_text(tokenizer, render(tokenizer, messages, template, add_generation_prompt=True))


def tokenize_conversation(tokenizer, messages, template, max_length=None, add_generation_prompt=False):
    """input_ids, attention_mask and labels (-100 outside assistant replies) for one conversation.

    With add_generation_prompt=True the conversation ends with the user and the ids are the prompt a
    model answers at inference; every label is then -100.
    """
    spec = get_template(template)
    if add_generation_prompt:
        ids = encode_prompt(tokenizer, messages, spec)
        labels = [IGNORE] * len(ids)
    else:
        ids = tokenizer(training_text(tokenizer, messages, spec)).input_ids  # as TRL tokenizes "text"
        labels = response_masker(tokenizer, spec)({"input_ids": [ids]})["labels"][0]
    if max_length is not None:
        ids, labels = ids[:max_length], labels[:max_length]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def add_text_column(dataset, tokenizer, template):
    """Replace "messages" by "text" (see training_text); other columns stay. Bad rows raise, by index.

    "messages" must go: TRL prefers a conversational column and would re-render it with its own
    tokenization if it stayed.
    """
    spec = get_template(template)

    def to_text(batch, indices):
        texts = []
        for index, messages in zip(indices, batch["messages"]):
            try:
                texts.append(training_text(tokenizer, messages, spec))
            except ValueError as error:
                raise ValueError(f"row {index}: {error}") from None
        return {"text": texts}

    if "messages" not in dataset.column_names:
        raise ValueError(f"The dataset needs a 'messages' column; it has {dataset.column_names}.")
    return dataset.map(to_text, batched=True, with_indices=True, remove_columns=["messages"],
                       desc=f"Rendering {spec.name} text",
                       new_fingerprint=text_fingerprint(dataset, tokenizer, spec))


def text_fingerprint(dataset, tokenizer, spec):
    """The rendered dataset's fingerprint, from what the text depends on.

    Left to itself, datasets pickles the whole tokenizer to fingerprint the map: 2.4 s a map for Llama-2's
    32,000-piece vocabulary on this 2-core machine (cProfile of notebook 08's tiny run), more for larger
    vocabularies. TRL's own tokenizing maps still pay it (they take the tokenizer as an argument).
    """
    import hashlib

    parts = [dataset._fingerprint, spec.name, tokenizer.chat_template or "", str(len(tokenizer)),
             tokenizer.name_or_path, str(tokenizer.bos_token), str(tokenizer.eos_token)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def apply_response_only(trainer, template):
    """Mask a TRL SFTTrainer's labels so only assistant replies and their end-of-turn token train.

    Unsloth's train_on_responses_only finds the format's markers in the token ids; it works for every
    format here, where TRL's assistant_only_loss needs {% generation %} tags our templates lack.
    Rows left with nothing to train on (a reply cut off by max_length) are dropped by Unsloth; we count
    and report them instead of losing them quietly.
    """
    from unsloth.chat_templates import train_on_responses_only

    spec = get_template(template)
    before = len(trainer.train_dataset)
    trainer = train_on_responses_only(trainer, instruction_part=spec.instruction_part,
                                      response_part=spec.response_part,
                                      force_match=markers_match_as_written(trainer.processing_class, spec))
    dropped = before - len(trainer.train_dataset)
    if dropped:
        print(f"medlearn: {dropped} of {before} training rows had no assistant tokens left after "
              "truncation and were dropped; raise max_length to keep them.")
    return trainer


def stop_token_ids(tokenizer, template):
    """Ids that end generation for this format (those the tokenizer has), end-of-turn first."""
    spec = get_template(template)
    vocab = tokenizer.get_vocab()
    ids = [vocab[token] for token in spec.stop_tokens if token in vocab]
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids
