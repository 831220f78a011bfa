"""The leaderboard protocol against lm-evaluation-harness itself, on the shipped samples and the tiny llama-3.

lm-eval's own task definitions (pubmedqa, medqa_4options, medmcqa from the installed package) read the
same questions from local files; lm-eval's HFLM loads the tiny model folder, and medlearn loads the same
folder as a plain Hugging Face model. Per question and option the log-likelihoods must agree within 1e-4,
the options must rank the same, and lm-eval's own acc / acc_norm must equal medlearn's predictions.
"""
import json

import pytest

pytest.importorskip("lm_eval", reason="lm-eval is a test dependency: pip install lm-eval -c requirements.txt")

from medlearn.evaluation import BENCHMARKS, load_benchmark, read_pubmedqa_test_ids  # noqa: E402
from medlearn.data.benchmarks import sample_path  # noqa: E402
from medlearn.evaluation.leaderboard import leaderboard_choices, leaderboard_prompt  # noqa: E402
from medlearn.evaluation.lm_eval_reference import (lm_eval_loglikelihoods, lm_eval_metrics,  # noqa: E402
                                                   lm_eval_model, load_lm_eval_task, write_lm_eval_file)
from medlearn.evaluation.scoring import argmax, score_questions  # noqa: E402


def published_rows(name):
    """The sample file's rows in the Hub schema; PubMedQA only on the official test ids, as both score."""
    rows = [json.loads(line) for line in sample_path(name).read_text().splitlines()]
    if name == "pubmedqa":
        test_ids = read_pubmedqa_test_ids()
        rows = [row for row in rows if str(row["pubid"]) in test_ids]
    return rows


def ranking(values):
    return sorted(range(len(values)), key=lambda i: (-values[i], i))


@pytest.fixture(scope="module")
def tiny_folder():
    from medlearn.models.tiny import tiny_model_path

    return tiny_model_path("llama-3")


@pytest.fixture(scope="module")
def medlearn_model(tiny_folder):
    from medlearn.evaluation import load_for_eval

    # The folder as a plain Hugging Face model (no medlearn run info), in float32 like lm-eval on a CPU.
    return load_for_eval(str(tiny_folder), 1024, load_in_4bit=False, dtype="float32")


@pytest.fixture(scope="module")
def lm_eval_lm(tiny_folder):
    return lm_eval_model(tiny_folder, batch_size=4, dtype="float32")


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_leaderboard_protocol_agrees_with_lm_eval(name, tmp_path, medlearn_model, lm_eval_lm):
    task = load_lm_eval_task(name, write_lm_eval_file(name, published_rows(name), tmp_path / f"{name}.jsonl"),
                             metrics=["acc", "acc_norm"])
    docs = list(task.eval_docs)
    questions = load_benchmark(name, sample=True).questions
    assert len(docs) == len(questions) >= 10

    # The same text and choices reach the model.
    for doc, item in zip(docs, questions):
        assert leaderboard_prompt(item, name) == task.doc_to_text(doc)
        assert leaderboard_choices(item, name) == task.doc_to_choice(doc)
        target = task.doc_to_target(doc)  # an index (MedQA, MedMCQA) or the answer word (PubMedQA)
        assert item["answer"] == (target if isinstance(target, int) else task.doc_to_choice(doc).index(target))

    theirs = lm_eval_loglikelihoods(lm_eval_lm, task)
    ours, _ = score_questions(medlearn_model.model, medlearn_model.tokenizer, questions, protocol="leaderboard",
                              benchmark=name, batch_size=8)
    for index, (their_lls, row) in enumerate(zip(theirs, ours)):
        assert row["scores"] == pytest.approx(their_lls, abs=1e-4), f"{name} question {index}"
        assert ranking(row["scores"]) == ranking(their_lls), f"{name} question {index}"

    # lm-eval's own metric code on its log-likelihoods gives our acc and acc_norm, question by question.
    metrics = lm_eval_metrics(task, theirs)
    assert [m["acc"] for m in metrics] == [float(r["pred"] == r["gold"]) for r in ours]
    assert [m["acc_norm"] for m in metrics] == [float(r["pred_norm"] == r["gold"]) for r in ours]
    assert all(r["pred"] == argmax(r["scores"]) for r in ours)
