"""Evaluation without a model: benchmark loaders, prompts through every template, baselines, reports, errors."""
import json

import pytest

from medlearn.evaluation import (BENCHMARKS, accuracy, baselines_for, evaluate_baseline, load_benchmark,
                                 load_results, macro_f1, plot_results, read_pubmedqa_test_ids, save_result)
from medlearn.evaluation.benchmarks import sample_path
from medlearn.evaluation.offtopic import offtopic_rates
from medlearn.evaluation.prompts import build_question_message
from medlearn.templates import encode_prompt
from medlearn.refusal import REFUSAL_REPLY, is_refusal
from medlearn.registry import MODELS

SCHEMA = {"id", "question", "context", "options", "answer"}


def sample_rows(name):
    return [json.loads(line) for line in sample_path(name).read_text().splitlines()]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.mark.parametrize("name,options", [("pubmedqa", 3), ("medqa", 4), ("medmcqa", 4)])
def test_samples_load_into_one_question_schema(name, options):
    bench = load_benchmark(name, sample=True)
    questions = bench.questions
    assert set(questions.column_names) == SCHEMA
    assert 10 <= len(questions) <= 40
    assert all(len(o) == options for o in questions["options"])
    assert all(0 <= a < options for a in questions["answer"])
    assert len(set(questions["id"])) == len(questions)


def test_medqa_and_medmcqa_answers_point_at_the_published_answer():
    medqa = load_benchmark("medqa", sample=True).questions
    for row, item in zip(sample_rows("medqa"), medqa):
        assert item["options"][item["answer"]] == row["answer"] == row["options"][row["answer_idx"]]
    medmcqa = load_benchmark("medmcqa", sample=True).questions
    for row, item in zip(sample_rows("medmcqa"), medmcqa):
        assert item["options"][item["answer"]] == row["opa opb opc opd".split()[row["cop"]]]


def test_pubmedqa_keeps_only_the_official_test_ids_and_counts_the_rest():
    test_ids = read_pubmedqa_test_ids()
    assert len(test_ids) == 500
    rows = sample_rows("pubmedqa")
    in_test = [str(r["pubid"]) for r in rows if str(r["pubid"]) in test_ids]
    assert 0 < len(in_test) < len(rows)  # the sample exercises both sides of the filter
    bench = load_benchmark("pubmedqa", sample=True)
    assert bench.questions["id"] == in_test
    assert bench.rows_read == len(rows)
    assert bench.excluded == {"not in the official PubMedQA test subset": len(rows) - len(in_test)}
    assert len(load_benchmark("pubmedqa", sample=True, test_subset=False).questions) == len(rows)


def test_pubmedqa_original_ori_pqal_json_gives_the_same_questions(tmp_path):
    original = {str(r["pubid"]): {"QUESTION": r["question"], "CONTEXTS": r["context"]["contexts"],
                                  "LABELS": r["context"]["labels"], "MESHES": r["context"]["meshes"],
                                  "YEAR": "2001", "reasoning_required_pred": "yes", "reasoning_free_pred": "yes",
                                  "final_decision": r["final_decision"], "LONG_ANSWER": r["long_answer"]}
                for r in sample_rows("pubmedqa")}
    path = tmp_path / "ori_pqal.json"
    path.write_text(json.dumps(original))
    from_file = load_benchmark("pubmedqa", path=path).questions
    assert from_file.to_list() == load_benchmark("pubmedqa", sample=True).questions.to_list()


def test_hub_parquet_file_is_read_through_path(tmp_path):
    from datasets import Dataset

    path = tmp_path / "validation.parquet"
    Dataset.from_list(sample_rows("medmcqa")).to_parquet(str(path))
    assert load_benchmark("medmcqa", path=path).questions.to_list() == \
        load_benchmark("medmcqa", sample=True).questions.to_list()


def test_limit_keeps_the_first_questions_and_says_so():
    bench = load_benchmark("medqa", sample=True, limit=5)
    assert len(bench.questions) == 5
    assert bench.excluded == {"beyond --limit 5": 19}
    with pytest.raises(ValueError, match="positive number of questions, got 0"):
        load_benchmark("medqa", sample=True, limit=0)


def test_unknown_benchmark_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown benchmark 'mmlu'.*pubmedqa, medqa, medmcqa"):
        load_benchmark("mmlu", sample=True)


def test_wrong_schema_names_the_missing_field(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "answer_idx"} for r in sample_rows("medqa")]
    with pytest.raises(ValueError, match="missing field 'answer_idx'"):
        load_benchmark("medqa", path=write_jsonl(tmp_path / "medqa.jsonl", rows))
    with pytest.raises(ValueError, match="missing field 'opa', 'opb', 'opc', 'opd', 'cop'"):  # MedQA as MedMCQA
        load_benchmark("medmcqa", path=write_jsonl(tmp_path / "m.jsonl", sample_rows("medqa")))


@pytest.mark.parametrize("name,field,bad,valid", [
    ("medqa", "answer_idx", "E", "A, B, C, D"),
    ("medmcqa", "cop", 4, "0, 1, 2, 3"),
    ("pubmedqa", "final_decision", "unsure", "yes, no, maybe"),
])
def test_answer_label_outside_the_options_names_the_row(tmp_path, name, field, bad, valid):
    rows = sample_rows(name)
    rows[3][field] = bad
    with pytest.raises(ValueError, match=rf"row 3 .*answer {bad!r}.* not one of the options {valid}"):
        load_benchmark(name, path=write_jsonl(tmp_path / "bad.jsonl", rows), **(
            {"test_subset": False} if name == "pubmedqa" else {}))


def test_metrics_and_baselines_are_exact_on_a_hand_made_set():
    golds = [0, 0, 0, 1, 2]
    assert accuracy(golds, [0, 1, 0, 1, 1]) == 0.6
    # F1 per class: 0 -> 2*2/(2+3)=0.8, 1 -> 2*1/(3+1)=0.5, 2 -> 0
    assert macro_f1(golds, [0, 1, 0, 1, 1]) == pytest.approx((0.8 + 0.5 + 0.0) / 3)
    base = baselines_for(golds, 3)
    assert base["majority"]["accuracy"] == 0.6
    assert base["majority"]["macro_f1"] == pytest.approx(0.75 / 3)  # only class 0 scores: 2*.6/(.6+1)
    assert base["random"]["accuracy"] == pytest.approx(1 / 3)
    f1 = [2 * p * (1 / 3) / (p + 1 / 3) for p in (0.6, 0.2, 0.2)]
    assert base["random"]["macro_f1"] == pytest.approx(sum(f1) / 3)
    assert baselines_for([1, 2, 2, 1], 4)["majority"]["predicts"] == 1  # ties go to the earlier option


COURSE_TEMPLATES = sorted({spec.template for spec in MODELS.values()})


@pytest.mark.parametrize("template", COURSE_TEMPLATES)
def test_zero_shot_prompts_render_through_every_family_template(template):
    from medlearn.templates import get_template, render, tiny_tokenizer

    tokenizer = tiny_tokenizer(template)
    for name in BENCHMARKS:
        item = load_benchmark(name, sample=True).questions[0]
        messages = build_question_message(item, BENCHMARKS[name].lettered)
        text = render(tokenizer, messages, template, add_generation_prompt=True)
        assert text.rstrip().endswith(get_template(template).response_part.rstrip())
        assert item["question"] in text and all(option in text for option in item["options"])
        ids = encode_prompt(tokenizer, messages, template)
        assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 1


def test_baseline_result_json_and_plot_are_written(tmp_path):
    results = [evaluate_baseline("majority", name, sample=True) for name in ("pubmedqa", "medmcqa")]
    model_like = dict(results[1], model="my-model", scored_by="model", accuracy=0.5)
    extra = [{"benchmark": "heldout", "model": "my-model", "scored_by": "model", "perplexity": 12.5},
             {"benchmark": "offtopic", "model": "my-model", "scored_by": "model",
              "declined_non_medical": 0.8, "answered_medical": 0.9}]
    paths = [save_result(r, tmp_path, run) for r, run in zip(results + [model_like], ["a", "b", "c"])]
    assert [p.name for p in paths] == ["eval_a.json", "eval_b.json", "eval_c.json"]
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind
    saved = load_results(paths)
    assert saved[0]["n"] == 14 and saved[0]["scored_by"] == "baseline:majority"
    assert saved[0]["accuracy"] == saved[0]["baselines"]["majority"]["accuracy"]
    png = plot_results(paths + extra, tmp_path / "eval_comparison.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="not a medlearn evaluation result"):
        load_results([write_jsonl(tmp_path / "x.json", [{"loss": 1.0}])])


def test_refusal_detection_and_offtopic_rates():
    assert is_refusal(REFUSAL_REPLY)
    assert is_refusal("  i’m SORRY, but I can only help with medical and\nhealth questions. Please ask")
    assert not is_refusal("Anemia is a lack of red cells. I'm sorry, but I can only help with medical "
                          "and health questions.")
    replies = [REFUSAL_REPLY, "Paris.", REFUSAL_REPLY, "Drink fluids and rest."]
    rates = offtopic_rates([0, 0, 1, 1], replies)
    assert rates == {"declined_non_medical": 0.5, "answered_medical": 0.5, "n_non_medical": 2, "n_medical": 2}


@pytest.mark.parametrize("argv,message", [
    (["--baseline", "majority", "--benchmark", "mmlu", "--sample"], "Unknown benchmark 'mmlu'"),
    (["--baseline", "majority", "--benchmark", "medqa", "--sample", "--limit", "0"], "--limit must be a positive"),
    (["--baseline", "median", "--benchmark", "medqa", "--sample"], "Unknown baseline 'median'"),
    (["--benchmark", "medqa", "--sample"], "Pass --model"),
])
def test_cli_bad_input_is_a_clear_error(argv, message, capsys, tmp_path):
    from medlearn.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "--artifacts-dir", str(tmp_path)] + argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_wrong_schema_file_is_a_clear_error(capsys, tmp_path):
    from medlearn.cli import main

    path = write_jsonl(tmp_path / "q.jsonl", [{"question": "Q?", "opa": "a"}])
    with pytest.raises(SystemExit):
        main(["eval", "--baseline", "random", "--benchmark", "medmcqa", "--path", str(path)])
    assert "missing field 'opb', 'opc', 'opd', 'cop'" in capsys.readouterr().err


def test_wilson_interval_is_wide_for_small_samples_and_refuses_none():
    from medlearn.evaluation import wilson_interval

    low, high = wilson_interval(12, 24)
    assert low < 0.5 < high and round(high - low, 2) == 0.37  # 24 questions: +-19 points
    low, high = wilson_interval(2092, 4183)
    assert high - low < 0.031
    with pytest.raises(ValueError, match="n=0"):
        wilson_interval(0, 0)
