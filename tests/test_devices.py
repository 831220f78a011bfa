"""Inputs always follow the model's device.

On Colab the model sits on the GPU; a tensor built on the CPU and fed to it fails there and nowhere
else. On this CPU machine the check is made to bite: while a step runs, tensors created without naming a
device land on PyTorch's 'meta' device, and a forward pre-hook asserts that every tensor the model gets
sits on the device of its parameters. Code that builds inputs with `device=model.device` passes; code
that forgets (a tokenizer's `return_tensors="pt"` fed straight in) is caught.
"""
import contextlib

import pytest
import torch

from medlearn.models import choose_model, load_model
from medlearn.templates import prepare_tokenizer


@pytest.fixture(scope="module")
def tiny():
    import unsloth  # noqa: F401

    choice = choose_model("tiny-llama-3")
    model, tokenizer = load_model(choice, max_seq_length=512, load_in_4bit=False, dtype=torch.float32)
    return model, prepare_tokenizer(tokenizer, choice.template), choice


@contextlib.contextmanager
def inputs_must_follow(model):
    """Fail if any tensor reaches `model` from another device; count the calls that were checked."""
    device = next(model.parameters()).device
    checked = []

    def check(module, args, kwargs):
        for value in [*args, *kwargs.values()]:
            if isinstance(value, torch.Tensor):
                assert value.device == device, f"an input on {value.device} reached a model on {device}"
        checked.append(module)

    handle = model.register_forward_pre_hook(check, with_kwargs=True)
    try:
        with torch.device("meta"):  # a tensor made without a device is now visibly on the wrong one
            yield checked
    finally:
        handle.remove()


def test_the_check_catches_a_tokenizer_tensor_fed_to_the_model(tiny):
    model, tokenizer, _ = tiny
    with pytest.raises(AssertionError, match="reached a model"):
        with inputs_must_follow(model):
            model(input_ids=tokenizer("What is asthma?", return_tensors="pt").input_ids)


def test_generation_and_chat_follow_the_model(tiny):
    from medlearn.inference import Chat, generate_reply

    model, tokenizer, choice = tiny
    messages = [{"role": "user", "content": "What are the symptoms of asthma?"}]
    with inputs_must_follow(model) as checked:
        generate_reply(model, tokenizer, choice.template, messages, max_new_tokens=4)
        chat = Chat(model, tokenizer, choice.template, max_context=256, max_new_tokens=4)
        chat.ask("What is a fever?")
        chat.ask("And in children?")
    assert checked


def test_the_web_page_reply_follows_the_model(tiny):
    from medlearn.webapp import make_responder

    model, tokenizer, choice = tiny
    respond = make_responder(model, tokenizer, choice.template, max_new_tokens=4, max_context=256)
    with inputs_must_follow(model) as checked:
        reply = respond("Is a cough with fever serious?", [])
        reply = "".join(reply) if not isinstance(reply, str) else reply
    assert checked and reply


def test_evaluation_scoring_and_heldout_loss_follow_the_model(tiny):
    from medlearn.data import prepare_dataset
    from medlearn.evaluation import EvalModel, evaluate_benchmark, evaluate_heldout, load_benchmark

    model, tokenizer, choice = tiny
    evaluated = EvalModel(model, tokenizer, choice)
    bench = load_benchmark("medqa", sample=True, limit=4)
    eval_rows = prepare_dataset(["medquad"], sample=True).eval.select(range(4))
    with inputs_must_follow(model) as checked:
        evaluate_benchmark(evaluated, bench, progress=False)
        evaluate_heldout(evaluated, eval_rows, max_length=256)
    assert checked
