"""medlearn's prompts and training rows, token for token against each format's vendor reference.

For every format, the same eight conversations (generation prompts and training rows, one and two
turns, with and without a system prompt) are tokenized twice: by medlearn (its template on a tokenizer
with the real vocabulary, `tokenize_conversation` / `encode_prompt`, Unsloth's response-only masking)
and by the vendor's reference (reference.py). A case passes when the ids are equal and, for a training
row, the trained positions are exactly the reference's answers plus their end-of-turn tokens.
SentencePiece vocabularies are checked under both `legacy` settings. A training row ends with its
last end-of-turn token, so whitespace a template writes after it is left out of the reference row.

    for case in check_format("mistral"): print(case.line())
"""
import copy
from dataclasses import dataclass
from functools import partial

from . import reference
from .explain import trained_spans
from .labels import encode_prompt, tokenize_conversation
from .render import fold_system, prepare_tokenizer
from .specs import SAMPLE_CONVERSATION, get_template
from ..vendor.tokenizers import llama3_tokenizer, sentencepiece_tokenizer

# The formats with a vendor reference. Alpaca has none: its published prompt (Stanford's) is one
# instruction, no chat, so the course's multi-turn variant cannot be held to it token for token.
WITH_REFERENCE = ("llama-3", "llama-2", "mistral", "mistral-v0.2", "gemma", "chatml", "openchat")
SYSTEM, USER_1, ANSWER_1, USER_2, ANSWER_2 = SAMPLE_CONVERSATION
CASES = (
    ("prompt, 1 turn", [USER_1]),
    ("prompt, 1 turn + system", [SYSTEM, USER_1]),
    ("prompt, 2 turns", [USER_1, ANSWER_1, USER_2]),
    ("prompt, 2 turns + system", [SYSTEM, USER_1, ANSWER_1, USER_2]),
    ("training row, 1 turn", [USER_1, ANSWER_1]),
    ("training row, 1 turn + system", [SYSTEM, USER_1, ANSWER_1]),
    ("training row, 2 turns", [USER_1, ANSWER_1, USER_2, ANSWER_2]),
    ("training row, 2 turns + system", list(SAMPLE_CONVERSATION)),
)


@dataclass
class CaseResult:
    template: str
    case: str
    vocabulary: str  # which tokenizer, with its legacy flag where it has one
    passed: bool
    detail: str  # where the ids or trained spans first differ, empty when they agree

    def line(self):
        verdict = "PASS" if self.passed else "FAIL"
        return f"{verdict}  {self.case:<31} {self.vocabulary}" + (f"\n      {self.detail}" if self.detail else "")


def _jinja(template_text, tokenizer, spec, fold=True):
    # A publisher's template, on the same tokenizer, with the system prompt where medlearn folds it
    # (Gemma and OpenChat have no system turn of their own).
    def encode(messages, add_generation_prompt):
        conversation = fold_system(messages, spec) if fold else messages
        return reference.template_reference(tokenizer, template_text(), conversation, add_generation_prompt,
                                            spec.end_of_turn)
    return encode


def _bos_then(encode, tokenizer):
    # ChatML itself has no BOS; the Gemma tokenizer it is shown on starts every text with one.
    def with_bos(messages, add_generation_prompt):
        ids, spans = encode(messages, add_generation_prompt)
        return [tokenizer.bos_token_id] + ids, [(a + 1, b + 1) for a, b in spans]
    return with_bos


def tokenizers_and_references(name):
    """[(vocabulary label, tokenizer to prepare, reference encoder)] for the format `name`."""
    from .render import tiny_tokenizer

    spec = get_template(name)
    if name == "llama-3":
        return [("Llama 3 (llama-models tiktoken)", llama3_tokenizer(), reference.llama3_reference)]
    if name in ("llama-2", "mistral", "mistral-v0.2"):
        vocab, encode = {"llama-2": ("llama-2", reference.llama2_reference),
                         "mistral": ("mistral-v3", partial(reference.mistral_reference, version="v3")),
                         "mistral-v0.2": ("mistral-v1", partial(reference.mistral_reference, version="v1"))}[name]
        return [(f"{vocab} SentencePiece, legacy={legacy}", sentencepiece_tokenizer(vocab, legacy), encode)
                for legacy in (True, False)]
    tiny = tiny_tokenizer(name)
    if name == "gemma":
        return [("tiny Gemma vocabulary", tiny, _jinja(reference.gemma2_template, tiny, spec))]
    if name == "chatml":
        encode = _bos_then(_jinja(reference.chatml_template, tiny, spec, fold=False), tiny)
        return [("tiny Gemma vocabulary (ChatML tokens)", tiny, encode)]
    if name == "openchat":
        return [("tiny OpenChat vocabulary", tiny, _jinja(reference.openchat_template, tiny, spec))]
    raise ValueError(f"No vendor reference for the {name} template (formats with one: "
                     f"{', '.join(WITH_REFERENCE)}).")


def check_format(name):
    """A CaseResult per conversation (and per legacy setting) for the format `name`."""
    results = []
    for vocabulary, tokenizer, encode in tokenizers_and_references(name):
        prepared = prepare_tokenizer(copy.deepcopy(tokenizer), name)
        for case, messages in CASES:
            results.append(_compare(name, case, vocabulary, prepared, messages, encode))
    return results


def medlearn_encode(tokenizer, messages, name):
    """(ids, trained spans) of a conversation as medlearn trains on it or prompts with it."""
    if messages[-1]["role"] == "user":
        return encode_prompt(tokenizer, messages, name), []
    row = tokenize_conversation(tokenizer, messages, name)
    return row["input_ids"], trained_spans(row["labels"])


def _compare(name, case, vocabulary, tokenizer, messages, encode):
    generation = messages[-1]["role"] == "user"
    ours, our_spans = medlearn_encode(tokenizer, messages, name)
    theirs, their_spans = encode(messages, generation)
    if their_spans and not tokenizer.decode(theirs[their_spans[-1][1]:]).strip():
        # A training row ends with its end-of-turn token (see training_text): the whitespace a template
        # writes after the last one (Gemma's and ChatML's newline) is not part of the row.
        theirs = theirs[:their_spans[-1][1]]
    detail = ""
    if ours != theirs:
        at = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
        detail = (f"ids differ at position {at} of {len(theirs)}: medlearn "
                  f"{tokenizer.convert_ids_to_tokens(ours[at:at + 3])} vs reference "
                  f"{tokenizer.convert_ids_to_tokens(theirs[at:at + 3])}")
    elif our_spans != their_spans:
        detail = f"trained spans differ: medlearn {our_spans} vs reference {their_spans}"
    return CaseResult(name, case, vocabulary, not detail, detail)
