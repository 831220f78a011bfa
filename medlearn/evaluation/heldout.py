"""Held-out loss and perplexity: how surprised the model is by answers it never trained on.

The loss is the mean cross-entropy over assistant-reply tokens only (labels from
medlearn.templates.tokenize_conversation, -100 elsewhere), averaged over tokens, not rows, so a
long answer weighs as much as its tokens; perplexity = exp(loss). The same eval split and the same
masking give the base model's and the fine-tuned adapter's numbers, so they can be compared.
"""
import math
import time

IGNORE = -100


def tokenize_eval_split(tokenizer, dataset, template, max_length=2048):
    """Token ids and labels for every row; rows cut by max_length are counted, rows with no reply fail."""
    from ..templates import tokenize_conversation

    if "messages" not in dataset.column_names:
        raise ValueError(f"The eval split needs a 'messages' column; found {', '.join(dataset.column_names)}.")
    rows, truncated = [], 0
    for index, messages in enumerate(dataset["messages"]):
        try:
            full = tokenize_conversation(tokenizer, messages, template)
        except ValueError as error:
            raise ValueError(f"Eval row {index}: {error}") from error
        row = {key: values[:max_length] for key, values in full.items()}
        truncated += len(full["input_ids"]) > max_length
        if all(label == IGNORE for label in row["labels"]):
            raise ValueError(f"Eval row {index}: no assistant tokens left to score (the reply is missing or "
                             f"lies beyond max_length={max_length}). Raise max_length or drop the row.")
        rows.append(row)
    return rows, truncated


def sum_token_losses(model, rows, pad_id, batch_size=4):
    """(summed cross-entropy, number of scored tokens) over all rows, right-padded batches."""
    import torch

    from .scoring import right_pad

    total, count = 0.0, 0
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(rows), batch_size):
            chunk = rows[start: start + batch_size]
            ids, mask = right_pad([r["input_ids"] for r in chunk], pad_id, model.device)
            labels, _ = right_pad([r["labels"] for r in chunk], IGNORE, model.device)
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
            targets = labels[:, 1:]  # position t predicts token t+1
            scored = targets != IGNORE
            losses = torch.nn.functional.cross_entropy(logits[scored].float(), targets[scored], reduction="sum")
            total += losses.item()
            count += int(scored.sum())
    return total, count


def heldout_loss(model, tokenizer, dataset, template, max_length=2048, batch_size=4):
    """Loss and perplexity on an eval split of conversations; returns a result dict."""
    from .scoring import pad_token_id

    if len(dataset) == 0:
        raise ValueError("The eval split is empty: there is nothing to measure.")
    rows, truncated = tokenize_eval_split(tokenizer, dataset, template, max_length)
    started = time.perf_counter()
    total, count = sum_token_losses(model, rows, pad_token_id(tokenizer), batch_size)
    loss = total / count
    return {"benchmark": "heldout", "n": len(rows), "tokens": count, "truncated_rows": truncated,
            "loss": loss, "perplexity": math.exp(loss),
            "rows_per_second": len(rows) / max(time.perf_counter() - started, 1e-9)}


def heldout_losses(model, tokenizer, datasets, template, max_length=2048, batch_size=4):
    """{name: held-out loss} for several eval splits, e.g. {"medical": data.eval, "general chat": ...}."""
    return {name: heldout_loss(model, tokenizer, rows, template, max_length, batch_size)["loss"]
            for name, rows in datasets.items()}
