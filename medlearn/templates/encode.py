"""Rendered text to token ids with exactly one BOS, whichever way a tokenizer handles BOS itself.

Below rendering and labels: both tokenize text the same way through here, so a prompt and a training
row split the text right after BOS alike.
"""


def adds_bos(tokenizer):
    """True when tokenizer(text) puts BOS in front by itself (the usual source of a double BOS)."""
    bos = tokenizer.bos_token_id
    return bos is not None and tokenizer("a").input_ids[:1] == [bos]


def encode_text(tokenizer, text):
    """Ids of rendered text with exactly one BOS: the tokenizer's own when it adds one.

    Training text reaches the tokenizer without its BOS (training_text) and gets it from the tokenizer;
    a prompt goes the same way, so the text right after BOS is split the same in both.
    """
    if adds_bos(tokenizer) and text.startswith(tokenizer.bos_token):
        return tokenizer(text[len(tokenizer.bos_token):]).input_ids
    return tokenizer(text, add_special_tokens=False).input_ids
