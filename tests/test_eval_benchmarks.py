"""Evaluation without a model: benchmark loaders, prompts through every template, baselines, reports, errors."""
import json

import pytest

from medlearn.evaluation import (BENCHMARKS, accuracy, baselines_for, evaluate_baseline, load_benchmark,
                                 load_results, macro_f1, plot_results, read_pubmedqa_test_ids, save_result)
from medlearn.data.benchmarks import sample_path
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
    ("medmcqa", "cop", 7, "0, 1, 2, 3"),
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


def github_release(rows):
    """MedMCQA rows as the GitHub release numbers them: cop 1-4 for opa..opd."""
    return [dict(row, cop=row["cop"] + 1) for row in rows]


def test_medmcqa_github_release_is_detected_and_converted_with_a_message(tmp_path, capsys):
    rows = sample_rows("medmcqa")
    assert {row["cop"] for row in rows} == {0, 1, 2, 3}
    from_github = load_benchmark("medmcqa", path=write_jsonl(tmp_path / "dev.jsonl", github_release(rows)))
    assert "GitHub release's numbering; converted" in capsys.readouterr().out
    assert from_github.questions.to_list() == load_benchmark("medmcqa", sample=True).questions.to_list()


def test_medmcqa_answers_that_fit_both_numberings_are_refused_not_shifted(tmp_path):
    rows = [row for row in sample_rows("medmcqa") if row["cop"] in (1, 2, 3)]
    path = write_jsonl(tmp_path / "ambiguous.jsonl", rows)
    with pytest.raises(ValueError, match="between 1 and 3.*cop_base=0.*cop_base=1"):
        load_benchmark("medmcqa", path=path)
    hub = load_benchmark("medmcqa", path=path, cop_base=0).questions
    github = load_benchmark("medmcqa", path=path, cop_base=1).questions
    assert [q["options"][q["answer"]] for q in hub] == [r["opa opb opc opd".split()[r["cop"]]] for r in rows]
    assert [q["options"][q["answer"]] for q in github] == [r["opa opb opc opd".split()[r["cop"] - 1]] for r in rows]
    mixed = sample_rows("medmcqa") + github_release(sample_rows("medmcqa"))[:1]
    mixed[-1]["cop"] = 4
    with pytest.raises(ValueError, match="both 0 and 4"):
        load_benchmark("medmcqa", path=write_jsonl(tmp_path / "mixed.jsonl", mixed))


def test_baselines_are_the_same_under_both_protocols_and_name_theirs(tmp_path):
    for name in BENCHMARKS:
        chat = evaluate_baseline("majority", name, "chat", sample=True)
        leaderboard = evaluate_baseline("majority", name, "leaderboard", sample=True)
        assert leaderboard["protocol"] == "leaderboard" and chat["protocol"] == "chat"
        keys = ("accuracy", "macro_f1", "baselines", "predictions", "n")
        assert {k: leaderboard[k] for k in keys} == {k: chat[k] for k in keys}
    with pytest.raises(ValueError, match="Unknown protocol 'harness'.*leaderboard, chat"):
        evaluate_baseline("majority", "medqa", "harness", sample=True)


def test_leaderboard_prompts_are_plain_text_in_lm_evals_format():
    from medlearn.evaluation.leaderboard import leaderboard_choices, leaderboard_prompt

    medqa = load_benchmark("medqa", sample=True).questions[0]
    prompt = leaderboard_prompt(medqa, "medqa")
    assert prompt.startswith("Question: " + medqa["question"] + "\nA. " + medqa["options"][0] + "\n")
    assert prompt.endswith("\nD. " + medqa["options"][3] + "\nAnswer:")
    assert "\nChoices:\n" in leaderboard_prompt(load_benchmark("medmcqa", sample=True).questions[0], "medmcqa")
    pubmed = load_benchmark("pubmedqa", sample=True).questions[0]
    assert leaderboard_prompt(pubmed, "pubmedqa") == ("Abstract: " + pubmed["context"] + "\nQuestion: "
                                                      + pubmed["question"] + "\nAnswer:")
    assert leaderboard_choices(pubmed, "pubmedqa") == ["yes", "no", "maybe"]
    assert leaderboard_choices(medqa, "medqa") == ["A", "B", "C", "D"]


def test_contamination_counts_benchmark_questions_found_in_training_data(tmp_path):
    from datasets import Dataset

    from medlearn.evaluation.contamination import contamination_report, normalise_question, training_datasets

    assert normalise_question("  Koplik spots are SEEN in:\n") == normalise_question("koplik spots are seen in")
    questions = load_benchmark("medmcqa", sample=True).questions
    asked = [questions[2]["question"].upper() + "  ",  # the same question, other case and spacing
             "Answer this exam question.\n" + questions[5]["question"] + "\nA. something"]  # one line of many
    training = Dataset.from_dict({"messages": [
        [{"role": "user", "content": text}, {"role": "assistant", "content": "An answer."}] for text in asked]
        + [[{"role": "user", "content": "What is asthma?"}, {"role": "assistant", "content": questions[7]["question"]}]]})
    report = contamination_report(questions, training_data=training)
    assert report["questions_seen_in_training"] == 2 and report["n"] == len(questions)
    assert report["ids"] == [questions[2]["id"], questions[5]["id"]]  # answers are not what the model was asked
    (tmp_path / "training_config.json").write_text(json.dumps({"datasets": ["medquad", "wikidoc"]}))
    assert training_datasets(tmp_path) == ["medquad", "wikidoc"]
    from_folder = contamination_report(questions, tmp_path, sample=True)
    assert from_folder["checked"] and from_folder["questions_seen_in_training"] == 0
    assert "medquad, wikidoc (shipped samples)" == from_folder["training_data"]


def test_result_json_and_plot_name_the_protocol(tmp_path):
    from medlearn.evaluation.report import format_result, run_name_for

    base = evaluate_baseline("majority", "medqa", "leaderboard", sample=True)
    leaderboard = dict(base, model="m", scored_by="model", accuracy=0.5, accuracy_norm=0.4, protocol="leaderboard",
                       lm_eval_task="medqa_4options", questions_per_second=10.0)
    chat = dict(leaderboard, protocol="chat", template="llama-3", accuracy=0.3)
    assert run_name_for(leaderboard) == "m_medqa_leaderboard" and run_name_for(chat) == "m_medqa"
    assert "leaderboard protocol (lm-eval medqa_4options)" in format_result(leaderboard)
    assert "chat protocol (llama-3 template)" in format_result(chat)
    paths = [save_result(r, tmp_path) for r in (leaderboard, chat)]
    assert [load_results([p])[0]["protocol"] for p in paths] == ["leaderboard", "chat"]
    png = plot_results(paths, tmp_path / "eval.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_dtype_names_resolve_and_bad_ones_list_the_valid(monkeypatch):
    import torch

    from medlearn.inference import resolve_dtype

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_dtype("auto") is torch.float32 and resolve_dtype(None) is torch.float32
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)  # a T4
    assert resolve_dtype("auto") is torch.float16
    assert resolve_dtype("bf16") is torch.bfloat16 and resolve_dtype(torch.float16) is torch.float16
    with pytest.raises(ValueError, match="Unknown dtype 'float8'.*auto, float32, float16, bfloat16"):
        resolve_dtype("float8")
