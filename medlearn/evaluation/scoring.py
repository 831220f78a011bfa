"""Zero-shot option scoring: which answer does the model find most probable after the question?

As on the Open Medical-LLM Leaderboard, nothing is generated or parsed: for each option we sum the
log-probabilities of its reply tokens given the prompt, and the highest sum is the model's answer
(acc). Beside it, acc_norm divides each sum by the option's length in characters, as lm-eval does.

Two protocols build the prompt and the replies (medlearn.evaluation.leaderboard): "leaderboard" is
lm-eval's plain text with " A" / " yes" continuations; "chat" renders the question through the family
chat template and scores the reply as the model would write it. The scorer below serves both.

Speed: the prompt, which is most of the tokens, is run once per question. A batch of prompts
(left-padded, sorted by length) goes through the model once and only the last position's logits are
computed (logits_to_keep=1): when every option is one token (" A", "yes"), that is the whole job, one
forward pass per batch of questions. Options longer than one token need a second pass, which feeds
the remaining reply tokens on top of the cached prompt (cache rows repeated, one per option) instead
of re-running the prompt for each option.
"""
import time
from dataclasses import dataclass, field

from .leaderboard import LM_EVAL_TASKS, encode_leaderboard_question, leaderboard_choices, leaderboard_prompt
from .prompts import build_question_message, chat_prompt_ids, chat_stop_ids, encode_reply, reply_choices


@dataclass
class EncodedQuestion:
    prompt: list  # prompt token ids
    replies: list  # one list of token ids per option
    choices: list = field(default_factory=list)  # the option texts scored, for acc_norm by characters


def encode_questions(tokenizer, questions, template, lettered=True, style="letter"):
    """Chat protocol: every question's prompt and option replies, tokenized once through the family template
    (or the tokenizer's own, for a model of no course family: template None)."""
    stops = set(chat_stop_ids(tokenizer, template))
    encoded = []
    for item in questions:
        messages = build_question_message(item, lettered)
        prompt = chat_prompt_ids(tokenizer, messages, template)
        choices = reply_choices(item, lettered, style)
        replies = [encode_reply(tokenizer, messages, reply, template, prompt, stops) for reply in choices]
        encoded.append(EncodedQuestion(prompt, replies, choices))
    return encoded


def encode_leaderboard_questions(tokenizer, questions, benchmark):
    """Leaderboard protocol: lm-eval's plain-text prompt and " choice" continuations for every question."""
    encoded = []
    for item in questions:
        choices = leaderboard_choices(item, benchmark)
        prompt, replies = encode_leaderboard_question(tokenizer, leaderboard_prompt(item, benchmark), choices)
        encoded.append(EncodedQuestion(prompt, replies, choices))
    return encoded


def last_position_logprobs(model, input_ids, mask, use_cache):
    """Model output and log-softmax of the last position of left-padded prompts (the lm head runs once)."""
    import torch

    positions = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding must not shift the positions
    out = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=use_cache,
                logits_to_keep=1)
    return out, torch.log_softmax(out.logits[:, -1].float(), dim=-1)


MIN_SHARED_PREFIX = 8  # tokens; below this one more forward pass costs more than it saves


def shared_prefix_length(sequences):
    """Tokens every sequence starts with, leaving each at least one token of its own."""
    shortest = min(len(seq) for seq in sequences)
    length = 0
    while length < shortest - 1 and all(seq[length] == sequences[0][length] for seq in sequences):
        length += 1
    return length


def prefix_cache(model, prefix, rows):
    """The KV cache of `prefix` (run once), repeated for `rows` batch rows; None when too short to pay."""
    import torch

    if len(prefix) < MIN_SHARED_PREFIX:
        return None
    ids = torch.tensor([prefix], device=model_device(model))
    cache = model(input_ids=ids, use_cache=True, logits_to_keep=1).past_key_values
    cache.batch_repeat_interleave(rows)
    return cache


def next_token_logprobs(model, prompts, pad_id):
    """Log-softmax of the token after each prompt: (batch, vocab), no KV cache kept.

    Shared-prefix reuse: what every prompt starts with (a chat template's system block and headers,
    "<bos>Question: ") runs once and is shared through the KV cache. The rest is right-padded, which
    needs no attention mask: a causal model never lets a real token look at the pads after it (as in
    lm-eval). Only the rows' last positions reach the lm head (logits_to_keep), which matters with a
    128k-token vocabulary.
    """
    import torch

    device = model_device(model)
    shared = shared_prefix_length(prompts)
    cache = prefix_cache(model, prompts[0][:shared], len(prompts))
    shared = shared if cache is not None else 0
    input_ids, _ = right_pad([p[shared:] for p in prompts], pad_id, device)
    positions = torch.arange(shared, shared + input_ids.shape[1], device=device).expand(len(prompts), -1)
    last = torch.tensor([len(p) - shared - 1 for p in prompts], device=device)
    kept, where = torch.unique(last, return_inverse=True)
    logits = model(input_ids=input_ids, position_ids=positions, past_key_values=cache, use_cache=cache is not None,
                   logits_to_keep=kept).logits
    rows = torch.arange(len(prompts), device=device)
    return torch.log_softmax(logits[rows, where].float(), dim=-1)


def score_batch(model, batch, pad_id):
    """Summed log-probs of every reply of every question in `batch`: a list of lists of floats."""
    import torch

    device = model_device(model)
    longer = [(i, j) for i, q in enumerate(batch) for j, reply in enumerate(q.replies) if len(reply) > 1]
    if longer:
        input_ids, mask = left_pad([q.prompt for q in batch], pad_id, device)
        out, first = last_position_logprobs(model, input_ids, mask, use_cache=True)
    else:  # every option is one token: this pass is the whole job
        first = next_token_logprobs(model, [q.prompt for q in batch], pad_id)
    # One gather and one copy to the CPU for the whole batch, not one .item() per option.
    rows = torch.tensor([i for i, q in enumerate(batch) for _ in q.replies], device=device)
    tokens = torch.tensor([reply[0] for q in batch for reply in q.replies], device=device)
    flat = first[rows, tokens].tolist()
    scores, start = [], 0
    for q in batch:
        scores.append(flat[start: start + len(q.replies)])
        start += len(q.replies)
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


def model_device(model):
    """Where the model's weights are: every input tensor is built there (a PEFT wrapper included)."""
    device = getattr(model, "device", None)
    return device if device is not None else next(model.parameters()).device


def select_cache_rows(cache, rows):
    """The KV cache with batch rows `rows` (repeats allowed), for a Cache object or legacy tuples."""
    if hasattr(cache, "batch_select_indices"):
        cache.batch_select_indices(rows)
        return cache
    return tuple(tuple(tensor[rows] for tensor in layer) for layer in cache)


def left_pad(sequences, pad_id, device):
    """(ids, attention mask) with the padding on the left, built on `device` (where the model is)."""
    return _pad(sequences, pad_id, device, left=True)


def right_pad(sequences, pad_id, device):
    """(ids, attention mask) with the padding on the right, built on `device` (where the model is)."""
    return _pad(sequences, pad_id, device, left=False)


def _pad(sequences, pad_id, device, left):
    import torch

    width = max(len(s) for s in sequences)
    ids, mask = [], []
    for seq in sequences:
        fill = width - len(seq)
        ids.append([pad_id] * fill + list(seq) if left else list(seq) + [pad_id] * fill)
        mask.append([0] * fill + [1] * len(seq) if left else [1] * len(seq) + [0] * fill)
    # Made on the model's device in one step: no CPU tensor to forget to move.
    return (torch.tensor(ids, dtype=torch.long, device=device),
            torch.tensor(mask, dtype=torch.long, device=device))


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


def encode_for_protocol(tokenizer, questions, protocol, benchmark=None, template=None, lettered=True,
                        style="letter"):
    """Encoded questions for the "leaderboard" protocol (needs `benchmark`) or the "chat" one (`template`)."""
    from .leaderboard import check_protocol

    if check_protocol(protocol) == "leaderboard":
        if benchmark not in LM_EVAL_TASKS:
            raise ValueError(f"The leaderboard protocol needs a benchmark name ({', '.join(LM_EVAL_TASKS)}), "
                             f"got {benchmark!r}.")
        return encode_leaderboard_questions(tokenizer, questions, benchmark)
    return encode_questions(tokenizer, questions, template, lettered, style)


def score_questions(model, tokenizer, questions, template=None, lettered=True, style="letter", batch_size=8,
                    progress=False, protocol="chat", benchmark=None):
    """Score every question; returns one dict per question and the questions per second.

    Each dict: id, gold, scores (summed log-prob per option), pred (argmax of the sums, lm-eval's
    acc), pred_norm (argmax of log-prob per character of the option text, lm-eval's acc_norm).
    Questions per second counts tokenizing and scoring, as lm-eval's loglikelihood call does.
    """
    started = time.perf_counter()
    encoded = encode_for_protocol(tokenizer, questions, protocol, benchmark, template, lettered, style)
    sums = score_encoded(model, encoded, pad_token_id(tokenizer), batch_size, progress)
    per_second = len(encoded) / max(time.perf_counter() - started, 1e-9)
    rows = []
    for item, enc, option_sums in zip(questions, encoded, sums):
        rows.append({"id": item["id"], "gold": item["answer"], "scores": option_sums,
                     "pred": argmax(option_sums), "pred_norm": argmax(per_character(option_sums, enc.choices))})
    return rows, per_second


def per_character(sums, choices):
    """Log-likelihood per character of each option's text: lm-eval's acc_norm normalisation."""
    return [total / len(choice) for total, choice in zip(sums, choices)]


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
