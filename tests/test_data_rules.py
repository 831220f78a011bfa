"""Quality rules and the benchmark leak check: each named rule repairs or drops exactly the shipped
quirk rows written for it, is counted in the report, and can be switched off."""
import json
import subprocess
import sys

import pytest

from medlearn.data import RULE_NAMES, SOURCES, clean, load_source, prepare_dataset
from medlearn.data.leaks import benchmark_index, index_questions
from medlearn.data.rules import is_referral_only, is_truncated


@pytest.fixture(scope="module", autouse=True)
def quiet_datasets():
    import datasets

    datasets.disable_progress_bars()


def cleaned(name, split="train", **options):
    return clean(load_source(name, sample=True, split=split), **options)


def texts(rows, role):
    return [turn["content"] for messages in rows["messages"] for turn in messages if turn["role"] == role]


def test_chatbot_scraped_prefixes_referrals_short_and_cut_answers():
    rows, report = cleaned("ai-medical-chatbot")
    assert not any(q.startswith("Q.") for q in texts(rows, "user"))
    assert "What causes burning feet at night?\nHi doctor, I am 52" in texts(rows, "user")[0]
    assert not any("-->" in a or a.startswith("Doctor:") for a in texts(rows, "assistant"))
    assert "Hi doctor, my nails split and break easily." in "\n".join(texts(rows, "user"))
    assert {k: report.dropped.get(k) for k in ("referral_only", "short_answer", "truncated_answer")} == \
        {"referral_only": 1, "short_answer": 2, "truncated_answer": 1}
    assert report.repaired == {"scraped_prefix": report.rows_kept}  # every kept title had "Q. "
    assert not any("consult a dermatologist online" == a.split(". ")[-1] for a in texts(rows, "assistant"))


def test_chatdoctor_anonymiser_damage_is_repaired_where_certain_else_dropped():
    rows, report = cleaned("chatdoctor")
    answers = texts(rows, "assistant")
    assert not any("chat doctor" in a.lower().replace("chatdoctor", "chat doctor") for a in answers)
    assert any(a.endswith("shortens an outbreak.") for a in answers)  # "Regards, Chat Doctor." removed
    assert any("Some parents try homeopathic medicines, but" in a for a in answers)
    assert not any("tablet" in a and "sinus" in a for a in answers)  # unknown splice: dropped
    assert not any("low carbohydrate" in a for a in answers)          # placeholder for a link: dropped
    assert not any(a.endswith("the following") for a in answers)
    assert report.rules["anonymiser_damage"] == {"on": True, "repaired": 2, "dropped": 2}
    assert (report.dropped["referral_only"], report.dropped["short_answer"],
            report.dropped["truncated_answer"]) == (1, 1, 1)


def test_medtuned_rules_follow_the_task_and_benchmark_questions_are_dropped():
    rows, report = cleaned("medtuned")
    assert report.dropped["benchmark_question"] == 3 and report.dropped["truncated_answer"] == 1
    assert report.repaired == {"anonymiser_damage": 1}
    answers = texts(rows, "assistant")
    assert "none" in answers and "yes" in answers  # one-word task answers: chat rules do not apply
    users = "\n".join(texts(rows, "user"))
    assert "Which vitamin deficiency causes scurvy?" in users
    assert "surgical neck of the humerus" not in users and "hand-washing reminder" not in users
    assert report.leak_check["dropped"] == 3 and len(report.leak_check["checked"]) == 3


def test_dialogue_prefixes_removed_and_short_answer_threshold_is_a_knob():
    rows, report = cleaned("medical-dialogue")
    assert "I have a stuffy nose every morning." in texts(rows, "user")
    assert any(a.startswith("Morning stuffiness") for a in texts(rows, "assistant"))
    assert report.dropped["short_answer"] == 1 and report.repaired == {"scraped_prefix": 1}
    _, lenient = cleaned("medical-dialogue", min_answer_chars=10)
    assert "short_answer" not in lenient.dropped and lenient.rows_kept == report.rows_kept + 1


@pytest.mark.parametrize("rule", ["short_answer", "referral_only", "truncated_answer", "anonymiser_damage",
                                  "scraped_prefix"])
def test_every_rule_can_be_switched_off(rule):
    name = "ai-medical-chatbot" if rule == "scraped_prefix" else "chatdoctor"
    _, on = cleaned(name)
    rows, off = cleaned(name, off=(rule,))
    assert off.rules[rule] == {"on": False, "repaired": 0, "dropped": 0}
    assert on.rules[rule]["repaired"] + on.rules[rule]["dropped"] > 0
    if rule == "scraped_prefix":
        assert any(q.startswith("Q. ") for q in texts(rows, "user"))
    else:  # the rows go back in, or on to the next rule that catches them (a referral is also short)
        assert rule not in off.dropped and off.dropped != on.dropped


def test_leak_check_off_keeps_benchmark_rows_and_unknown_rules_are_named():
    _, report = cleaned("medtuned", off=("benchmark_question",))
    assert "benchmark_question" not in report.dropped and report.leak_check is None
    _, report = cleaned("medtuned", benchmarks=None)
    assert "benchmark_question" not in report.dropped
    with pytest.raises(ValueError, match="Unknown rule.*short_answers.*Valid rules: scraped_prefix"):
        cleaned("medtuned", off=("short_answers",))
    with pytest.raises(ValueError, match="benchmarks must be 'samples'"):
        cleaned("medtuned", benchmarks="medqa")


def test_benchmark_index_matches_whole_or_contained_questions_only():
    long_q = "Which nerve is injured in a fracture of the surgical neck of the humerus?"
    index = index_questions([long_q, "Drug of choice for anaphylaxis is:"])
    assert index.matches("QUESTION: which nerve is injured in a fracture of the surgical neck of the humerus\nA. Radial")
    assert index.matches("Drug of choice for anaphylaxis is")
    assert not index.matches("In children, the drug of choice for anaphylaxis is what?")  # short: whole only
    assert not index.matches("Which nerve is injured in a fracture of the shaft of the humerus?")
    samples = benchmark_index()
    assert samples.matches(long_q) and samples.missing == ()


def test_hub_benchmarks_offline_are_reported_missing(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    benchmark_index.cache_clear()
    with pytest.warns(UserWarning, match="leak check is partial"):
        index = benchmark_index(hub=True)
    assert len(index.missing) == 3 and any("medqa test" in item for item in index.missing)
    assert index.matches("Which nerve is injured in a fracture of the surgical neck of the humerus?")
    benchmark_index.cache_clear()


def test_prepare_dataset_counts_leaks_in_its_stats_and_on_the_training_set(capsys):
    data = prepare_dataset(["medtuned", "medquad"], sample=True)
    assert "Benchmark leak check: dropped 3 row(s)" in capsys.readouterr().out
    stats = data.stats()
    assert stats["benchmark_questions_dropped"] == 3
    assert stats["sources"]["medtuned"]["dropped"]["benchmark_question"] == 3
    from medlearn.data import data_stats_of

    assert data_stats_of(data.train) == stats
    assert json.loads(json.dumps(stats)) == stats  # ready for the stats JSON


@pytest.mark.parametrize("text", [
    "Hi. For further queries consult a dermatologist online. Take care.",
    "Hello. Thanks for your query. Please consult a gastroenterologist. Regards",
    "Hi, for more doubts consult a sexual health specialist online -->",
])
def test_referral_only_examples(text):
    assert is_referral_only(text.replace("-->", ""))


@pytest.mark.parametrize("name", ["chatdoctor", "ai-medical-chatbot", "medical-dialogue", "wikidoc"])
def test_real_answers_are_neither_referral_only_nor_truncated(name):
    # Every full answer in the samples (100+ characters, ending a sentence; some end on a referral).
    good = [a for a in texts(cleaned(name, off=RULE_NAMES)[0], "assistant") if a.endswith(".") and len(a) >= 100]
    assert good and not [a for a in good if is_referral_only(a) or is_truncated(a)]


@pytest.mark.parametrize("text,truncated", [
    ("Pain behind the knee needs a scan. I would suggest the following", True),
    ("Take the tablets with food and", True),
    ("The usual doses are:", True),
    ("Take care.", False), ("Is it serious?", False), ("```\ncode\n```", False),
])
def test_truncated_examples(text, truncated):
    assert is_truncated(text) is truncated


def medlearn(*args):
    return subprocess.run([sys.executable, "-m", "medlearn", "data", *args], capture_output=True, text=True)


def test_cli_stats_json_lists_every_rule_for_every_source():
    for name, source in SOURCES.items():
        for split in source.splits:
            result = medlearn("--dataset", name, "--sample", "--split", split, "--stats", "--json")
            assert result.returncode == 0, result.stderr
            report = json.loads(result.stdout)
            assert list(report["rules"]) == list(RULE_NAMES), name
            for rule, entry in report["rules"].items():
                assert entry["dropped"] == report["dropped"].get(rule, 0), (name, rule)
                assert entry["repaired"] == report["repaired"].get(rule, 0), (name, rule)
            assert report["rows_read"] == report["rows_kept"] + sum(report["dropped"].values())
    off = json.loads(medlearn("--dataset", "chatdoctor", "--sample", "--stats", "--json",
                              "--off", "short_answer", "--min-answer-chars", "5").stdout)
    assert off["rules"]["short_answer"]["on"] is False
