"""Zero-shot option scoring: which answer does the model find most probable after the question?

As on the Open Medical-LLM Leaderboard, nothing is generated or parsed: for each option we sum the
log-probabilities of its reply tokens given the prompt, and the highest sum is the model's answer.
A length-normalised answer (mean log-prob per reply token) is reported beside it; for one-token
replies such as "A" the two agree.

Speed: the prompt, which is most of the tokens, is run once per question. A batch of prompts
(left-padded, sorted by length) goes through the model once with use_cache=True; the last position
already scores every option's first token. Only options longer than one token need a second pass,
which feeds the remaining reply tokens on top of the cached prompt (the cache rows are repeated,
one per option) instead of re-running the prompt for each option.
"""
import time
from dataclasses import dataclass

from ..templates import encode_prompt
from .prompts import build_question_message, encode_reply, reply_choices


@dataclass
class EncodedQuestion:
    prompt: list  # prompt token ids
    replies: list  # one list of token ids per option


def encode_questions(tokenizer, questions, template, lettered=True, style="letter"):
    """Tokenize every question's prompt and option replies once, through the family template."""
    from ..templates import stop_token_ids

    stops = set(stop_token_ids(tokenizer, template))
    encoded = []
    for item in questions:
        messages = build_question_message(item, lettered)
        prompt = encode_prompt(tokenizer, messages, template)
        replies = [encode_reply(tokenizer, messages, reply, template, prompt, stops)
                   for reply in reply_choices(item, lettered, style)]
        encoded.append(EncodedQuestion(prompt, replies))
    return encoded


def score_batch(model, batch, pad_id):
    """Summed log-probs of every reply of every question in `batch`: a list of lists of floats."""
    import torch

    input_ids, mask = left_pad([q.prompt for q in batch], pad_id, model.device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding must not shift the positions
    out = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True)
    first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
    scores = [[first[i, reply[0]].item() for reply in q.replies] for i, q in enumerate(batch)]
    longer = [(i, j) for i, q in enumerate(batch) for j, reply in enumerate(q.replies) if len(reply) > 1]
    if longer:
        add_reply_tails(model, batch, longer, out.past_key_values, mask, scores, pad_id)
    return scores


def add_reply_tails(model, batch, pairs, cache, prompt_mask, scores, pad_id):
    """Add the log-probs of reply tokens 2.. for (question i, option j) pairs, on the cached prompts."""
    import torch

    rows = torch.tensor([i for i, _ in pairs], device=prompt_mask.device)
    cache = select_cache_rows(cache, rows)
    tails = [batch[i].replies[j] for i, j in pairs]
    # Input: reply tokens 1..n-1 (token 0 was scored from the prompt); target: tokens 2..n.
    inputs, tail_mask = right_pad([t[:-1] for t in tails], pad_id, prompt_mask.device)
    starts = prompt_mask.sum(-1)[rows]
    positions = starts[:, None] + torch.arange(inputs.shape[1], device=inputs.device)[None, :]
    mask = torch.cat([prompt_mask[rows], tail_mask], dim=1)
    out = model(input_ids=inputs, attention_mask=mask, position_ids=positions, past_key_values=cache,
                use_cache=True)
    logprobs = torch.log_softmax(out.logits.float(), dim=-1)
    for row, ((i, j), tail) in enumerate(zip(pairs, tails)):
        targets = torch.tensor(tail[1:], device=logprobs.device)
        scores[i][j] += logprobs[row, : len(targets)].gather(-1, targets[:, None]).sum().item()


def select_cache_rows(cache, rows):
    """The KV cache with batch rows `rows` (repeats allowed), for a Cache object or legacy tuples."""
    if hasattr(cache, "batch_select_indices"):
        cache.batch_select_indices(rows)
        return cache
    return tuple(tuple(tensor[rows] for tensor in layer) for layer in cache)


def left_pad(sequences, pad_id, device):
    import torch

    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, width - len(seq):] = torch.tensor(seq)
        mask[row, width - len(seq):] = 1
    return ids.to(device), mask.to(device)


def right_pad(sequences, pad_id, device):
    import torch

    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    return ids.to(device), mask.to(device)


def score_encoded(model, encoded, pad_id, batch_size=8, progress=False):
    """Summed log-probs for every question, in input order; batches hold prompts of similar length."""
    import torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].prompt), reverse=True)
    scores = [None] * len(encoded)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start: start + batch_size]
            for index, result in zip(chunk, score_batch(model, [encoded[i] for i in chunk], pad_id)):
                scores[index] = result
            if progress:
                print(f"  scored {min(start + batch_size, len(order))}/{len(order)} questions", end="\r")
    if progress:
        print()
    return scores


def score_questions(model, tokenizer, questions, template, lettered=True, style="letter", batch_size=8,
                    progress=False):
    """Score every question; returns one dict per question and the questions per second.

    Each dict: id, gold, scores (summed log-prob per option), pred (argmax of the sums), pred_norm
    (argmax of log-prob per reply token).
    """
    encoded = encode_questions(tokenizer, questions, template, lettered, style)
    started = time.perf_counter()
    sums = score_encoded(model, encoded, pad_token_id(tokenizer), batch_size, progress)
    per_second = len(encoded) / max(time.perf_counter() - started, 1e-9)
    rows = []
    for item, enc, option_sums in zip(questions, encoded, sums):
        means = [total / len(reply) for total, reply in zip(option_sums, enc.replies)]
        rows.append({"id": item["id"], "gold": item["answer"], "scores": option_sums,
                     "pred": argmax(option_sums), "pred_norm": argmax(means)})
    return rows, per_second


def pad_token_id(tokenizer):
    # Padded positions are masked out, so any id works; EOS stands in when a tokenizer has no pad.
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def argmax(values):
    """Index of the largest value; the first one on a tie."""
    return max(range(len(values)), key=lambda i: (values[i], -i))


def score_question_without_cache(model, question):
    """Reference scorer: every option as its own full sequence, no padding, no cache, no batching.

    Slow (the prompt runs once per option); the tests and bench_eval.py compare against it.
    """
    import torch

    sums = []
    with torch.inference_mode():
        for reply in question.replies:
            ids = torch.tensor([question.prompt + reply], device=model.device)
            logprobs = torch.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)
            start = len(question.prompt) - 1  # the position that predicts the reply's first token
            targets = ids[0, len(question.prompt):]
            sums.append(logprobs[start: start + len(reply)].gather(-1, targets[:, None]).sum().item())
    return sums
