"""Stay on topic: the refusal training mix and the inference guard."""
import pytest

from medlearn import guard
from medlearn.data import split_labelled_questions
from medlearn.refusal import REFUSAL_REPLY, is_refusal


@pytest.fixture(scope="module")
def medical_train():
    from medlearn.data import prepare_dataset

    return prepare_dataset(["medquad"], sample=True).train


@pytest.fixture(scope="module")
def topic_guard():
    return guard.train_guard(sample=True)


def test_refusal_rows_make_up_the_requested_share(medical_train):
    mixed, report = guard.add_refusal_examples(medical_train, share=0.2, sample=True, return_report=True)
    refusals = [row for row in mixed if row["source"] == guard.REFUSAL_SOURCE]
    assert len(mixed) == len(medical_train) + len(refusals)
    assert report["refusal_rows"] == len(refusals) == guard.refusal_count(len(medical_train), 0.2)
    assert report["share"] == pytest.approx(0.2, abs=0.02)
    for row in refusals:
        user, answer = row["messages"]
        assert user["role"] == "user" and answer == {"role": "assistant", "content": REFUSAL_REPLY}
        assert is_refusal(answer["content"])
    # Shuffled in, not appended: the refusals are not all at the end.
    sources = mixed["source"]
    assert sources[-len(refusals):] != [guard.REFUSAL_SOURCE] * len(refusals)


def test_refusal_questions_are_non_medical_and_never_in_the_evaluation_set(medical_train):
    from medlearn.data import load_labelled_questions
    from medlearn.evaluation.offtopic import load_offtopic_questions

    mixed = guard.add_refusal_examples(medical_train, share=0.3, sample=True)
    asked = {row["messages"][0]["content"] for row in mixed if row["source"] == guard.REFUSAL_SOURCE}
    labels = dict(zip(*load_labelled_questions(sample=True)[:].values()))
    assert asked and all(labels[q] == 0 for q in asked)
    held_out = set(load_offtopic_questions(sample=True)["text"])
    assert not asked & held_out


def test_a_share_larger_than_the_questions_allow_is_reported_not_hidden(medical_train, capsys):
    mixed, report = guard.add_refusal_examples(medical_train, share=0.9, sample=True, return_report=True)
    assert report["refusal_rows"] == report["available_non_medical"] < report["asked_for"]
    assert "asked for" in capsys.readouterr().out
    with pytest.raises(ValueError, match="between 0 and 1"):
        guard.add_refusal_examples(medical_train, share=1.5, sample=True)


def test_guard_is_trained_and_scored_on_disjoint_questions(topic_guard):
    report = topic_guard.report
    split = split_labelled_questions(sample=True)
    assert report["heldout_questions"] == len(split["eval"]) and report["train_questions"] == len(split["train"])
    assert 0 <= report["accuracy"] <= 1
    # It learned its training questions: every one is on the right side of the threshold.
    probabilities = topic_guard.medical_probability(split["train"]["text"])
    assert all((p >= 0.5) == bool(label) for p, label in zip(probabilities, split["train"]["label"]))


def test_guard_with_medical_training_questions_tells_topics_apart(medical_train):
    topic = guard.train_guard(sample=True, extra_medical=medical_train)
    assert topic.allows("What are the symptoms of asthma in children?")
    assert not topic.allows("How do I change a flat tyre on my bike?")
    assert topic.report["extra_medical_questions"] == len(medical_train)


def test_guard_declines_before_the_model_is_called(topic_guard):
    from medlearn.inference import DISCLAIMER_BLOCK, Chat

    class NoModel:  # any call into the model fails the test
        def __getattr__(self, name):
            raise AssertionError(f"the model was used ({name}) for a declined question")

    train = split_labelled_questions(sample=True)["train"]
    question = next(q for q, label in zip(train["text"], train["label"]) if label == 0)
    assert not topic_guard.allows(question)
    chat = Chat(NoModel(), None, "llama-3", max_context=512, guard=topic_guard)
    answer = chat.ask(question)
    assert answer == REFUSAL_REPLY + DISCLAIMER_BLOCK and chat.last.stop_reason == "guard"


def test_chat_command_with_the_guard_declines_an_off_topic_question():
    import os
    import subprocess
    import sys

    from medlearn.inference import DISCLAIMER

    out = subprocess.run([sys.executable, "-m", "medlearn", "chat", "--model", "tiny-llama-3", "--guard",
                          "--question", "How do I change a flat tyre on my bike?", "--max-new-tokens", "8",
                          "--max-length", "512"], capture_output=True, text=True,
                         env=dict(os.environ, HF_HUB_OFFLINE="1"), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert REFUSAL_REPLY in out.stdout and DISCLAIMER in out.stdout
    assert "held-out accuracy" in out.stderr


def test_a_guarded_result_shows_the_replies_the_user_would_see_and_rates_that_agree_with_them():
    class BlocksCooking:
        def allows(self, text):
            return "cook" not in text

    examples = [{"question": "How do I cook rice?", "label": 0, "reply": "Rinse it first.", "declined": False},
                {"question": "Who wrote Emma?", "label": 0, "reply": "Jane Austen.", "declined": False},
                {"question": "Is a cough after a cold normal?", "label": 1, "reply": "Often, yes.", "declined": False}]
    result = {"benchmark": "offtopic", "method": "greedy generation + is_refusal", "examples": examples}
    guarded = guard.guarded_result(result, BlocksCooking())
    assert [e["reply"] for e in guarded["examples"]] == [REFUSAL_REPLY, "Jane Austen.", "Often, yes."]
    assert [e["declined"] for e in guarded["examples"]] == [True, False, False]
    assert guarded["declined_non_medical"] == 0.5 and guarded["answered_medical"] == 1.0
    assert guarded["method"] == "on-topic guard, then greedy generation + is_refusal"
    assert examples[0]["declined"] is False  # the model's own result is left as it was
    assert guard.offtopic_with_guard(result, BlocksCooking())["declined_non_medical"] == 0.5
