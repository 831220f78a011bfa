"""Answer a question with a (fine-tuned) model: the family template, greedy, stopping at its stop tokens."""


def generate_reply(model, tokenizer, template, messages, max_new_tokens=64):
    """The assistant's next reply to `messages` (a list of role/content dicts), as text."""
    import torch

    from .templates import render, stop_token_ids

    prompt = render(tokenizer, messages, template, add_generation_prompt=True)
    # The rendered prompt already holds BOS; letting the tokenizer add one would double it.
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
    from unsloth import FastLanguageModel

    FastLanguageModel.for_inference(model)  # eval mode, KV cache on (Unsloth's fast path on GPU)
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                                eos_token_id=stop_token_ids(tokenizer, template),
                                pad_token_id=tokenizer.pad_token_id)
    new_tokens = output[0, inputs["input_ids"].shape[1]:]
    return tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
