"""Off-topic behaviour: does the model decline non-medical questions and still answer medical ones?

Method (greedy generation + is_refusal): each held-out question is rendered through the family
template and the model writes its reply greedily, as in chat, for just enough tokens to cover the
course's refusal sentence. A reply that opens with that sentence (medlearn.refusal.is_refusal)
counts as declined. We judge what the model actually says rather than comparing log-probs of the
refusal with some answer, because these questions come without reference answers to compare with.
The course teaches one fixed refusal, so a base model that declines in its own words is counted as
answering: the number measures whether fine-tuning taught *our* behaviour.

The held-out set is the eval side of medlearn.data.split_labelled_questions, the split a
stay-on-topic fine-tune (and the guard) trains on the other side of.
"""
import time

from ..refusal import REFUSAL_OPENING, is_refusal

MEDICAL, NON_MEDICAL = 1, 0


def load_offtopic_questions(sample=False, path=None, limit=None):
    """Held-out labelled questions, Dataset(text, label), label 1 medical / 0 not medical."""
    from ..data import split_labelled_questions

    held_out = split_labelled_questions(sample=sample, path=path)["eval"]
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be a positive number of questions, got {limit!r}.")
        held_out = held_out.select(range(min(limit, len(held_out))))
    labels = set(held_out["label"])
    if labels != {MEDICAL, NON_MEDICAL}:
        raise ValueError(f"The held-out questions hold only label(s) {sorted(labels)}; off-topic behaviour "
                         "needs both medical (1) and non-medical (0) questions. Use more rows.")
    return held_out


def generate_replies(model, tokenizer, template, texts, max_new_tokens, batch_size=8):
    """Greedy replies to single-question conversations, batched with left padding."""
    import torch

    from ..inference import prepare_for_inference
    from ..templates import encode_prompt, stop_token_ids
    from .scoring import left_pad, pad_token_id

    prepare_for_inference(model)  # a model straight out of train() is still in training mode
    stops = stop_token_ids(tokenizer, template)
    replies = []
    for start in range(0, len(texts), batch_size):
        prompts = [encode_prompt(tokenizer, [{"role": "user", "content": t}], template)
                   for t in texts[start: start + batch_size]]
        ids, mask = left_pad(prompts, pad_token_id(tokenizer), model.device)
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                 do_sample=False, eos_token_id=stops, pad_token_id=pad_token_id(tokenizer))
        replies += tokenizer.batch_decode(out[:, ids.shape[1]:], skip_special_tokens=True)
    return [reply.strip() for reply in replies]


def offtopic_rates(labels, replies):
    """Shares declined (non-medical) and answered (medical) from labels and reply texts."""
    declined = [is_refusal(reply) for reply in replies]
    non_medical = [d for d, label in zip(declined, labels) if label == NON_MEDICAL]
    medical = [d for d, label in zip(declined, labels) if label == MEDICAL]
    if not non_medical or not medical:
        raise ValueError("Off-topic rates need at least one medical and one non-medical question.")
    return {"declined_non_medical": sum(non_medical) / len(non_medical),
            "answered_medical": 1 - sum(medical) / len(medical),
            "n_non_medical": len(non_medical), "n_medical": len(medical)}


def offtopic_behaviour(model, tokenizer, template, questions, batch_size=8, max_new_tokens=None):
    """Generate replies to held-out questions and measure declining; returns a result dict."""
    # Enough tokens to see the whole refusal opening, and a little more.
    opening_tokens = len(tokenizer(REFUSAL_OPENING, add_special_tokens=False).input_ids)
    max_new_tokens = max_new_tokens or opening_tokens + 8
    started = time.perf_counter()
    replies = generate_replies(model, tokenizer, template, questions["text"], max_new_tokens, batch_size)
    result = {"benchmark": "offtopic", "n": len(replies), "method": "greedy generation + is_refusal",
              "max_new_tokens": max_new_tokens,
              "questions_per_second": len(replies) / max(time.perf_counter() - started, 1e-9)}
    result.update(offtopic_rates(questions["label"], replies))
    result["examples"] = [{"question": q, "label": label, "reply": r, "declined": is_refusal(r)}
                          for q, label, r in zip(questions["text"], questions["label"], replies)]
    return result
