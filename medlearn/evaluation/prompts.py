"""Zero-shot benchmark prompts: what the user asks, and the replies whose probabilities are compared.

Only the *content* of the user message is built here (question, lettered options, one instruction):
that is data preparation. The chat markup around it always comes from a chat template: the family's
(medlearn.templates), so a benchmark prompt looks exactly like a chat the model was tuned on, or, for a
model of none of the course families (template None), the tokenizer's own.
"""
from ..data.benchmarks import LETTERS

CHOICE_STYLES = ("letter", "text")


def build_question_message(item, lettered=True):
    """The user message for one benchmark question, as the one-message conversation the template renders.

    PubMedQA (lettered=False) shows the abstract and asks for yes, no or maybe; the MCQ benchmarks
    list the options as "A. ..." lines and ask for the letter.
    """
    lines = []
    if item["context"]:
        lines += ["Context:", item["context"], ""]
    lines += ["Question: " + item["question"], ""]
    if lettered:
        lines += ["Options:"] + [letter + ". " + text for letter, text in zip(LETTERS, item["options"])]
        lines += ["", "Answer with the letter of the correct option."]
    else:
        lines += ["Answer with one word: " + ", ".join(item["options"]) + "."]
    return [{"role": "user", "content": "\n".join(lines)}]


def reply_choices(item, lettered=True, style="letter"):
    """The assistant replies that are scored, one per option.

    "letter" (the leaderboard's choice for MedQA/MedMCQA) scores "A", "B", ...; "text" scores the
    option's own words. PubMedQA always scores its words: yes, no, maybe.
    """
    if style not in CHOICE_STYLES:
        raise ValueError(f"Unknown choice style {style!r}. Valid styles: {', '.join(CHOICE_STYLES)}.")
    if lettered and style == "letter":
        return list(LETTERS[: len(item["options"])])
    return list(item["options"])


def render_chat(tokenizer, messages, template, add_generation_prompt=False):
    """The conversation as text in the family `template`, or in the tokenizer's own chat template when
    the model belongs to no course family (template None)."""
    from ..templates import render

    if template is not None:
        return render(tokenizer, messages, template, add_generation_prompt=add_generation_prompt)
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"{tokenizer.name_or_path} belongs to none of the course families and its tokenizer has "
                         "no chat template, so the chat protocol has no format to ask it in. Use --protocol "
                         "leaderboard (plain text, as lm-eval scores any causal LM).")
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def chat_prompt_ids(tokenizer, messages, template):
    """Ids of the generation prompt, tokenized as medlearn.templates tokenizes a prompt (one BOS)."""
    from ..templates import encode_text

    return encode_text(tokenizer, render_chat(tokenizer, messages, template, add_generation_prompt=True))


def chat_stop_ids(tokenizer, template):
    """Ids that end a reply: the family's stop tokens, or the tokenizer's EOS for its own template."""
    from ..templates import stop_token_ids

    return stop_token_ids(tokenizer, template) if template is not None else [tokenizer.eos_token_id]


def encode_reply(tokenizer, messages, reply, template, prompt_ids, stop_ids):
    """Token ids of `reply` exactly as they follow the prompt when the template renders the answer.

    The whole conversation is rendered with the reply as the assistant turn and the prompt's ids are
    cut off the front, so spacing the template puts before a reply (" A" after [/INST]) is scored
    too. The end-of-turn token and whitespace before it are not part of the reply.
    """
    text = render_chat(tokenizer, messages + [{"role": "assistant", "content": reply}], template)
    ids = tokenizer(text, add_special_tokens=False).input_ids
    if ids[: len(prompt_ids)] != prompt_ids:
        # A tokenizer merged the last prompt token with the reply: score the reply on its own.
        return tokenizer(reply, add_special_tokens=False).input_ids
    ids = ids[len(prompt_ids):]
    end = next((i for i, token in enumerate(ids) if token in stop_ids), len(ids))
    ids = ids[:end]
    while ids and not tokenizer.decode(ids[-1:]).strip():
        ids = ids[:-1]
    if not ids:
        raise ValueError(f"The reply {reply!r} encodes to no tokens with the {template or 'tokenizer'} template.")
    return ids
