"""The stay-on-topic mix: every training question once, the refusal or the model's own answer, and replies
generated right after training that are the model's real greedy replies."""
import pytest
import torch

from medlearn.data import split_labelled_questions
from medlearn.refusal import REFUSAL_REPLY
from medlearn.stay_on_topic import (COURSE_QUESTIONS, OWN_ANSWER_SOURCE, own_answers, stay_on_topic_mix,
                                    whole_sentences)


def test_the_course_questions_hold_a_few_hundred_of_each_kind_and_nothing_is_dropped():
    from medlearn.data import load_labelled_questions

    questions, report = load_labelled_questions(path=COURSE_QUESTIONS, return_report=True)
    assert report.rows_read == report.rows_kept == len(questions)  # no empty, duplicate or unlabelled row
    labels = list(questions["label"])
    assert labels.count(1) >= 200 and labels.count(0) >= 200


@pytest.mark.parametrize("reply, kept", [
    ("Rest and fluids help. See a doctor if it lasts a", "Rest and fluids help."),
    ("Is it serious? Usually not! It passes in a week and", "Is it serious? Usually not!"),
    ("It passes in a week.", "It passes in a week."),
    ("Blood pressure of 120/80 is normal and", "Blood pressure of 120/80 is normal and"),  # no whole sentence
    ("Take 2.5 mg daily with food and", "Take 2.5 mg daily with food and"),  # a decimal point ends nothing
])
def test_a_reply_cut_by_the_token_limit_keeps_its_whole_sentences(reply, kept):
    assert whole_sentences(reply) == kept


def greedy_without_cache(model, ids, new_tokens):
    """Greedy tokens from full forward passes, eval mode, no KV cache: the reference reply."""
    model.eval()
    with torch.inference_mode():
        for _ in range(new_tokens):
            next_id = model(input_ids=ids).logits[:, -1].argmax(-1, keepdim=True)
            ids = torch.cat([ids, next_id], dim=1)
    return ids


def test_a_model_straight_out_of_training_replies_as_it_would_in_eval_mode(tmp_path):
    """The notebook's order: a model loaded for inference, then a fine-tune, then replies to questions.
    The fine-tuned model is still in training mode with gradient checkpointing, where generation runs
    without its KV cache; replies must still be the model's greedy continuation."""
    from conftest import train_tiny_adapter

    from medlearn.evaluation import load_for_eval
    from medlearn.evaluation.offtopic import generate_replies
    from medlearn.templates import encode_prompt

    load_for_eval("tiny-llama-3", load_in_4bit=False, dtype=torch.float32)  # Unsloth's inference set-up, first
    run = train_tiny_adapter(tmp_path, "fresh", max_steps=2)
    question = "What helps with a dry cough at night?"
    reply = generate_replies(run.model, run.tokenizer, run.choice.template, [question], max_new_tokens=6)[0]
    ids = torch.tensor([encode_prompt(run.tokenizer, [{"role": "user", "content": question}], run.choice.template)])
    expected = greedy_without_cache(run.model, ids, 6)[0, ids.shape[1]:]
    assert reply == run.tokenizer.decode(expected, skip_special_tokens=True).strip()


def test_the_mix_answers_each_training_question_once_with_the_refusal_or_the_models_own_answer():
    from medlearn.evaluation import load_for_eval

    split = split_labelled_questions(path=COURSE_QUESTIONS)
    mix = stay_on_topic_mix("tiny-llama-3", max_new_tokens=6)
    pairs = {m[0]["content"]: (m[1]["content"], source) for m, source in zip(mix["messages"], mix["source"])}
    assert len(pairs) == len(mix) == len(split["train"])  # each training question exactly once
    assert not set(pairs) & set(split["eval"]["text"])  # no held-out question is taught
    labels = dict(zip(split["train"]["text"], split["train"]["label"]))
    medical = [q for q, label in labels.items() if label == 1]
    assert all((pairs[q][0] == REFUSAL_REPLY) == (labels[q] == 0) for q in labels)
    assert all(pairs[q][1] == OWN_ANSWER_SOURCE for q in medical)
    base = load_for_eval("tiny-llama-3", load_in_4bit=False, dtype=torch.float32)
    assert [pairs[q][0] for q in medical[:4]] == own_answers(base, medical[:4], max_new_tokens=6)
