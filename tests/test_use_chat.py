"""Chat: family stop tokens end the answer, the history stays within the context, the disclaimer is always there."""
import inspect
import os
import subprocess
import sys

import pytest

from medlearn.inference import (DISCLAIMER, DISCLAIMER_BLOCK, EMPTY_REPLY, Chat, MessageTooLongError,
                                fit_history, strip_disclaimer)
from medlearn.templates import encode_prompt


def load_tiny(family):
    import unsloth  # noqa: F401
    from medlearn.models import choose_model, load_model
    from medlearn.templates import prepare_tokenizer

    choice = choose_model(f"tiny-{family}")
    model, tokenizer = load_model(choice, 1024, load_in_4bit=True)
    return model, prepare_tokenizer(tokenizer, choice.template), choice


@pytest.fixture(scope="module")
def llama3():
    return load_tiny("llama-3")


def force_token_at(model, token_id, step):
    """A hook that makes the model choose `token_id` as its `step`-th new token (1-based)."""
    calls = {"n": 0}

    def hook(module, inputs, output):
        calls["n"] += 1
        if calls["n"] == step:
            output[..., -1, :] = -1e4
            output[..., -1, token_id] = 1e4
        return output

    return model.get_output_embeddings().register_forward_hook(hook)


@pytest.mark.parametrize("family, stop", [("llama-3", "<|eot_id|>"), ("llama-3", "<|eom_id|>"),
                                          ("gemma", "<end_of_turn>")])
def test_answer_ends_at_the_family_stop_token(family, stop):
    model, tokenizer, choice = load_tiny(family)
    chat = Chat(model, tokenizer, choice.template, max_context=1024, max_new_tokens=30)
    handle = force_token_at(model, tokenizer.convert_tokens_to_ids(stop), step=4)
    try:
        answer = chat.ask("What is a fever?")
    finally:
        handle.remove()
    assert chat.last.stop_reason == "stop token" and chat.last.new_tokens == 4
    assert stop not in answer and answer.endswith(DISCLAIMER_BLOCK)


def test_a_token_that_is_not_a_stop_token_does_not_end_the_answer(llama3):
    model, tokenizer, choice = llama3
    chat = Chat(model, tokenizer, choice.template, max_context=1024, max_new_tokens=8)
    handle = force_token_at(model, tokenizer.convert_tokens_to_ids("<|start_header_id|>"), step=2)
    try:
        chat.ask("What is a fever?")
    finally:
        handle.remove()
    assert chat.last.new_tokens == 8 or chat.last.stop_reason == "stop token"
    assert chat.last.new_tokens > 2


def test_history_is_trimmed_oldest_first_within_the_context(llama3):
    model, tokenizer, choice = llama3
    budget, new = 360, 12
    chat = Chat(model, tokenizer, choice.template, max_context=budget, max_new_tokens=new)
    trimmed = []
    for turn in range(7):
        chat.ask(f"Question number {turn}: is my cough serious?")
        assert chat.last.prompt_tokens + new <= budget
        assert chat.last.prompt_tokens + chat.last.new_tokens <= budget
        sent = chat.last_messages
        assert sent[0]["role"] == "system" and sent[-1]["content"].startswith(f"Question number {turn}")
        # What was sent is the newest part of the history: nothing from the middle is skipped.
        assert sent[1:-1] == chat.history[len(chat.history) - 2 - len(sent[1:-1]):-2]
        trimmed.append(chat.trimmed_turns)
    assert trimmed[0] == 0 and trimmed[-1] > 0 and trimmed == sorted(trimmed)
    assert len(chat.history) == 14  # the history is kept; only the prompt is trimmed


def test_a_message_longer_than_the_context_gets_a_clear_reply(llama3):
    model, tokenizer, choice = llama3
    messages = [{"role": "user", "content": "pain " * 400}]
    with pytest.raises(MessageTooLongError, match="too long.*context holds 256 tokens"):
        fit_history(lambda kept: encode_prompt(tokenizer, kept, choice.template), messages, 256, 32)
    chat = Chat(model, tokenizer, choice.template, max_context=256, max_new_tokens=32)
    answer = chat.ask("pain " * 400)
    assert "too long" in answer and answer.endswith(DISCLAIMER_BLOCK) and chat.history == []


def test_disclaimer_on_every_answer_and_no_way_to_turn_it_off(llama3):
    model, tokenizer, choice = llama3

    class DeclineAll:
        def allows(self, text):
            return False

    chat = Chat(model, tokenizer, choice.template, max_context=512, max_new_tokens=6)
    guarded = Chat(model, tokenizer, choice.template, max_context=512, max_new_tokens=6, guard=DeclineAll())
    for answer in [chat.ask("What is asthma?"), chat.ask(""), chat.ask("   "), guarded.ask("Who wrote Hamlet?")]:
        assert answer.endswith(DISCLAIMER_BLOCK) and DISCLAIMER in answer
    assert chat.ask("").startswith(EMPTY_REPLY)
    assert not any("disclaimer" in name for name in inspect.signature(Chat).parameters)
    assert strip_disclaimer(chat.ask("What is asthma?")) == chat.history[-1]["content"]


def test_chat_command_streams_answers_with_the_disclaimer():
    # An adapter folder as --model is covered by test_use_webapp (serve) and test_use_adapters.
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, "-m", "medlearn", "chat", "--model", "tiny-llama-3",
                          "--question", "What is asthma?", "--question", "", "--max-new-tokens", "8",
                          "--max-length", "512"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count(DISCLAIMER) == 2 and EMPTY_REPLY in out.stdout
    assert "tiny-llama-3" in out.stderr
