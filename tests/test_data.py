"""medlearn.data: every shipped sample loads to the one schema, quirks are cleaned and counted,
splits never leak a question, mixes keep their proportions, and bad input names file/column/schema."""
import json
import subprocess
import sys

import pandas as pd
import pytest

from medlearn.data import (RESTRICTED, SOURCES, RestrictedDatasetError, clean, load_file, mix_in,
                           load_labelled_questions, load_source, mix, normalize_text,
                           prepare_dataset, split_train_eval)
from medlearn.data.loaders import conversation_features

SAMPLE_SPLITS = [(name, split) for name, source in SOURCES.items() for split in source.splits]


@pytest.fixture(scope="module", autouse=True)
def quiet_datasets():
    import datasets

    datasets.disable_progress_bars()


@pytest.fixture(scope="module")
def medquad():
    return load_source("medquad", sample=True)


def turns_are_valid(messages, require_answer=True):
    roles = [turn["role"] for turn in messages]
    if roles[0] == "system":
        roles = roles[1:]
    alternating = all(role == ("user" if i % 2 == 0 else "assistant") for i, role in enumerate(roles))
    return alternating and roles and (roles[-1] == "assistant" or not require_answer)


@pytest.mark.parametrize("name,split", SAMPLE_SPLITS)
def test_every_sample_loads_to_the_conversation_schema(name, split):
    source = SOURCES[name]
    rows = load_source(name, sample=True, split=split)
    assert rows.features == conversation_features(not source.has_answers, source.kept_columns.values())
    assert set(rows["source"]) == {name}
    cleaned, report = clean(rows, require_answer=source.has_answers)
    assert report.rows_read == len(rows) and report.rows_kept == len(cleaned) > 0
    assert report.rows_read == report.rows_kept + sum(report.dropped.values())
    assert report.dropped, "every sample carries at least one quirk to clean"
    for messages in cleaned["messages"]:
        assert turns_are_valid(messages, source.has_answers)
        assert all(turn["content"] and turn["content"] == turn["content"].strip() for turn in messages)


def test_sample_sizes_are_within_twenty_and_sixty_rows_per_source():
    for name, source in SOURCES.items():
        total = sum(len(load_source(name, sample=True, split=split)) for split in source.splits)
        assert 20 <= total <= 60, (name, total)


def test_medquad_quirks_are_cleaned_and_each_drop_counted(medquad):
    cleaned, report = clean(medquad)
    assert report.dropped == {"missing_value": 1, "exact_duplicate": 2, "normalized_duplicate": 1}
    questions = [m[0]["content"] for m in cleaned["messages"]]
    assert "Who is at risk for Glaucoma?" in questions      # was "Glaucoma? ?"
    assert not any("? ?" in q for q in questions)
    answer = [m[1]["content"] for m in cleaned["messages"] if "Lyme Disease" in m[0]["content"]][-1]
    assert answer == "Most people recover fully after a few weeks of antibiotics.\n\nSome have tiredness or joint pain for months."


def test_markup_debris_is_stripped_everywhere():
    texts = []
    for name in ("wikidoc", "wikidoc-patient", "chatdoctor", "ai-medical-chatbot", "wiki-medical-terms"):
        cleaned, _ = clean(load_source(name, sample=True))
        texts += [turn["content"] for messages in cleaned["messages"] for turn in messages]
    for debris in ("-->", "<br", "<p>", "</p>", "<b>", "<ref>", "&nbsp;", "  ", "\t"):
        assert not any(debris in text for text in texts), debris
    assert "Anemia is a lower than normal amount of hemoglobin in the blood.\nIt causes tiredness, pallor and breathlessness." in texts


def test_each_source_maps_its_columns_as_documented():
    first = lambda name: load_source(name, sample=True)[0]["messages"]  # noqa: E731
    assert first("wiki-medical-terms")[0] == {"role": "user", "content": "What is Appendicitis?"}
    chatbot = first("ai-medical-chatbot")[0]["content"]
    assert chatbot.startswith("Q. What causes burning feet at night?\nHi doctor, I am 52")
    assert [t["role"] for t in first("medtuned")] == ["system", "user", "assistant"]
    assert [t["role"] for t in first("chatdoctor")] == ["user", "assistant"]  # fixed instruction dropped
    finetome = load_source("finetome", sample=True)[2]["messages"]
    assert [t["role"] for t in finetome] == ["system", "user", "assistant"]


def test_every_drop_reason_with_a_token_budget(tmp_path):
    from transformers import AutoTokenizer

    from medlearn.models.tiny import tiny_model_path

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_path("llama-3"))
    path = tmp_path / "mine.jsonl"
    rows = [{"q": "What is a fever?", "a": "A body temperature above 38 degrees Celsius."},
            {"q": "What is a fever?", "a": "A body temperature above 38 degrees Celsius."},
            {"q": "WHAT is a   fever??", "a": "A body temperature above 38 degrees  celsius..."},
            {"q": "   ", "a": "Something."},
            {"q": "What is a cough?", "a": ""},
            {"q": "What is a cold?", "a": None},
            {"q": "What is a rash?", "a": "Red skin. " * 200}]
    path.write_text("\n".join(json.dumps(row) for row in rows))
    cleaned, report = clean(load_file(path, {"user": "q", "assistant": "a"}),
                            tokenizer=tokenizer, max_answer_tokens=64)
    assert report.rows_kept == len(cleaned) == 1
    assert report.dropped == {"missing_value": 1, "empty_question": 1, "empty_answer": 1,
                              "answer_too_long": 1, "exact_duplicate": 1, "normalized_duplicate": 1}
    with pytest.raises(ValueError, match="tokenizer"):
        clean(cleaned, max_answer_tokens=64)


def test_non_string_values_are_counted_not_crashing(tmp_path):
    path = tmp_path / "mixed.jsonl"
    rows = [{"question": "What is insulin?", "answer": "A hormone that lowers blood sugar."},
            {"question": 42, "answer": "A number is not a question."},
            {"question": "What is a pulse?", "answer": ["a", "list"]}]
    path.write_text("\n".join(json.dumps(row) for row in rows))
    cleaned, report = clean(load_file(path, {"user": "question", "assistant": "answer"}))
    assert (report.rows_read, report.rows_kept, report.dropped) == (3, 1, {"missing_value": 2})


def test_split_is_leak_free_and_deterministic(medquad):
    cleaned, _ = clean(medquad)
    parts = split_train_eval(cleaned, eval_fraction=0.3, seed=7)
    again = split_train_eval(cleaned, eval_fraction=0.3, seed=7)
    other = split_train_eval(cleaned, eval_fraction=0.3, seed=8)
    key = lambda rows: {normalize_text(m[0]["content"]) for m in rows["messages"]}  # noqa: E731
    assert not key(parts["train"]) & key(parts["eval"])
    assert len(parts["train"]) + len(parts["eval"]) == len(cleaned)
    assert 0.2 * len(cleaned) <= len(parts["eval"]) <= 0.45 * len(cleaned)
    assert parts["eval"]["messages"] == again["eval"]["messages"]
    assert parts["eval"]["messages"] != other["eval"]["messages"]
    # MedQuAD asks "What is (are) Osteoporosis ?" twice with different answers: both on one side.
    osteo = [side for side in ("train", "eval") for m in parts[side]["messages"]
             if m[0]["content"] == "What is (are) Osteoporosis ?"]
    assert len(osteo) == 2 and len(set(osteo)) == 1


def test_mix_by_counts_and_weights_keeps_source():
    wikidoc, _ = clean(load_source("wikidoc", sample=True))
    medquad, _ = clean(load_source("medquad", sample=True))
    both = {"wikidoc": wikidoc, "medquad": medquad}
    counted = mix(both, counts={"wikidoc": 10, "medquad": 5}, seed=1)
    assert pd.Series(counted["source"]).value_counts().to_dict() == {"wikidoc": 10, "medquad": 5}
    weighted = mix(both, weights={"wikidoc": 3, "medquad": 1}, total=20)
    assert pd.Series(weighted["source"]).value_counts().to_dict() == {"wikidoc": 15, "medquad": 5}
    largest = mix(both, weights={"wikidoc": 1, "medquad": 1})
    assert pd.Series(largest["source"]).value_counts().to_dict() == {"wikidoc": 36, "medquad": 36}
    assert mix(both, counts={"wikidoc": 10, "medquad": 5}, seed=1)["messages"] == counted["messages"]
    with pytest.raises(ValueError, match="at most 36"):
        mix(both, counts={"medquad": 100})


def test_mix_in_keeps_every_training_row_and_adds_the_share():
    medquad, _ = clean(load_source("medquad", sample=True))
    finetome, _ = clean(load_source("finetome", sample=True))
    mixed = mix_in(medquad, finetome, share=0.2)
    sources = pd.Series(mixed["source"]).value_counts().to_dict()
    assert sources["medquad"] == len(medquad)  # nothing of the medical side is dropped
    assert sources["finetome"] == round(0.2 * len(medquad) / 0.8)
    assert sorted(map(str, medquad["messages"])) == sorted(str(m) for m, s in zip(mixed["messages"], mixed["source"])
                                                           if s == "medquad")
    assert mix_in(medquad, finetome, share=0) is medquad
    with pytest.raises(ValueError, match=r"needs \d+ extra rows, but `extra` has 19"):
        mix_in(medquad, finetome, share=0.5)
    with pytest.raises(ValueError, match="share is the fraction"):
        mix_in(medquad, finetome, share=1)


def test_prepare_dataset_reports_each_source_and_refuses_unanswered_questions():
    prepared = prepare_dataset(["wikidoc", "medquad"], sample=True, eval_fraction=0.1)
    assert set(prepared.reports) == {"wikidoc", "medquad"}
    kept = sum(report.rows_kept for report in prepared.reports.values())
    assert len(prepared.train) + len(prepared.eval) == kept
    assert set(prepared.train["source"]) == {"wikidoc", "medquad"}
    with pytest.raises(ValueError, match="load_labelled_questions"):
        prepare_dataset(["medical-questions"], sample=True)


def test_labelled_questions_give_text_and_label():
    questions, report = load_labelled_questions(sample=True, return_report=True)
    assert questions.column_names == ["text", "label"]
    assert set(questions["label"]) == {0, 1}
    assert report.dropped["bad_label"] == 1 and report.rows_kept == len(questions)
    assert "What is the capital of Australia?" in questions["text"]


def test_local_copy_via_path_uses_the_published_schema(tmp_path, medquad):
    copy = tmp_path / "medquad_copy.csv"
    copy.write_text("qtype,Question,Answer\ninformation,What is gout ?,A form of arthritis.\n")
    rows = load_source("medquad", path=copy)
    assert rows[0]["messages"][1]["content"] == "A form of arthritis."


def test_missing_column_error_names_file_column_and_schema(tmp_path):
    copy = tmp_path / "no_answer.csv"
    copy.write_text("qtype,Question\ninformation,What is gout ?\n")
    with pytest.raises(ValueError) as error:
        load_source("medquad", path=copy)
    assert str(copy) in str(error.value) and "'Answer'" in str(error.value)
    assert "qtype (text), Question (text), Answer (text)" in str(error.value)


def test_wrong_column_type_error(tmp_path):
    copy = tmp_path / "numbers.csv"
    copy.write_text("qtype,Question,Answer\ninformation,1,2\n")
    with pytest.raises(ValueError, match=r"numbers.csv: column 'Question' holds .*int64.*expected text"):
        load_source("medquad", path=copy)


@pytest.mark.parametrize("name,content,message", [
    ("really_parquet.csv", b"PAR1\x00\x01binary", "binary file, not csv"),
    ("really_csv.parquet", b"a,b\n1,2\n", "not a Parquet file"),
    ("really_csv.jsonl", b"question,answer\nx,y\n", "not JSON"),
])
def test_file_that_is_not_what_its_extension_says(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        load_file(path, {"user": "question", "assistant": "answer"})
    assert name in str(error.value)


def test_mapping_errors_name_the_column_and_the_expected_mapping(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("question,answer\nWhat is a sprain?,An injury to a ligament.\n")
    with pytest.raises(ValueError, match="names column 'reply' for 'assistant'.*only: question, answer"):
        load_file(path, {"user": "question", "assistant": "reply"})
    with pytest.raises(ValueError, match="mapping must be"):
        load_file(path, {"question": "question"})
    rows = load_file(path, {"user": "question", "assistant": "answer"})
    assert rows[0] == {"messages": [{"role": "user", "content": "What is a sprain?"},
                                    {"role": "assistant", "content": "An injury to a ligament."}],
                       "source": "mine"}


def test_own_file_with_system_column_and_chat_turns(tmp_path):
    path = tmp_path / "chats.jsonl"
    path.write_text(json.dumps({"turns": [{"role": "user", "content": "Hi"},
                                          {"role": "assistant", "content": "Hello, how can I help?"}]}))
    assert load_file(path, {"messages": "turns"})[0]["messages"][1]["role"] == "assistant"
    path = tmp_path / "tasks.parquet"
    pd.DataFrame({"task": ["Answer briefly."], "q": ["What is BMI?"], "a": ["Weight over height squared."]}).to_parquet(path)
    roles = [t["role"] for t in load_file(path, {"system": "task", "user": "q", "assistant": "a"})[0]["messages"]]
    assert roles == ["system", "user", "assistant"]


@pytest.mark.parametrize("name", list(RESTRICTED))
def test_restricted_datasets_explain_how_to_get_access(name):
    with pytest.raises(RestrictedDatasetError) as error:
        load_source(name)
    assert RESTRICTED[name].access in str(error.value) and RESTRICTED[name].url in str(error.value)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Valid sources: wikidoc, wikidoc-patient, medquad"):
        load_source("medqa")


def medlearn(*args):
    return subprocess.run([sys.executable, "-m", "medlearn", "data", *args], capture_output=True, text=True)


def test_cli_stats_json_reports_the_cleaning_numbers(medquad):
    result = medlearn("--dataset", "medquad", "--sample", "--stats", "--json")
    assert result.returncode == 0, result.stderr
    _, report = clean(medquad)
    assert json.loads(result.stdout) == report.to_dict()
    assert json.loads(result.stdout)["rows_read"] == 40


def test_cli_list_and_learner_errors():
    listing = json.loads(medlearn("--list", "--json").stdout)
    assert [row["name"] for row in listing["sources"]] == list(SOURCES)
    assert {row["name"] for row in listing["restricted"]} == set(RESTRICTED)
    result = medlearn("--dataset", "umls")
    assert result.returncode == 2 and "UMLS Metathesaurus License" in result.stderr
    assert "Traceback" not in result.stderr


def test_medtuned_keeps_its_task_set_beside_our_source_name():
    rows = load_source("medtuned", sample=True, split="validation")
    assert set(rows.column_names) == {"messages", "source", "task"}
    assert set(rows["source"]) == {"medtuned"}
    assert {"NCBI-disease", "MedNLI", "PubMedQA"} <= set(rows["task"])
    cleaned, _ = clean(rows)
    assert "task" in cleaned.column_names


def test_qa_table_shows_first_question_and_answer_with_word_counts():
    from medlearn.data import to_qa_table

    table = to_qa_table(load_source("medquad", sample=True, limit=3))
    assert list(table.columns) == ["question", "answer", "question_words", "answer_words"]
    assert len(table) == 3 and (table.answer_words > 0).all()
    assert table.question_words[0] == len(table.question[0].split())
