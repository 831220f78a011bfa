"""Every file a learner gives goes through one checked reader (medlearn.files), and adapters are checked
on load: broken files end in one sentence naming the file, the line and what was expected."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, train_tiny_adapter
from medlearn.files import read_table

GOOD = {"question": "What is asthma?", "answer": "A long-term condition of the airways that narrows them."}


def medlearn(*args):
    return subprocess.run([sys.executable, "-m", "medlearn", *args], capture_output=True, text=True, cwd=REPO,
                          env=dict(os.environ))


def jsonl(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the reader (7)

def test_malformed_and_truncated_lines_are_named_and_can_be_skipped_counted(tmp_path, capsys):
    row = json.dumps(GOOD)
    path = jsonl(tmp_path / "rows.jsonl", [row, "{not json", row, "[1, 2]", row[:25]])
    with pytest.raises(ValueError, match=r"rows.jsonl, line 2: not valid JSON.*3 line\(s\).*skip_bad_rows=True"):
        read_table(path)
    table = read_table(path, skip_bad_rows=True)
    assert len(table) == 2 and table[0] == GOOD
    report = capsys.readouterr().out
    assert "skipped 3 malformed line(s)" in report and "line 4: a JSON list" in report
    assert "line 5: not valid JSON" in report and "truncated" in report


@pytest.mark.parametrize("name, content, says", [
    ("empty.jsonl", b"\n  \n", "is empty"),
    ("binary.jsonl", b"{\x00\x01\x02", "binary file"),
    ("latin1.csv", "question,answer\nQu'est-ce que la fi\xe8vre ?,Une temp\xe9rature\n".encode("latin-1"),
     r"latin1.csv, line 2: not UTF-8"),
    ("ragged.csv", b"question,answer\nWhat is asthma?,An airway disease,extra\n", r"ragged.csv, line 2: 3 field"),
    ("open_quote.csv", b'question,answer\n"What is asthma?,An airway disease\n', "line .*not valid CSV|field"),
    ("cut.json", b'[{"question": "What is asthma?", "answer": "An air', r"cut.json, line 1: not valid JSON.*truncated"),
])
def test_broken_files_get_one_sentence_naming_the_file_and_line(tmp_path, name, content, says):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=says):
        read_table(path)


def test_data_and_eval_commands_use_the_checked_reader_without_tracebacks(tmp_path):
    bad = jsonl(tmp_path / "medquad.jsonl", ['{"question": "What is gout?", "answer": "A form of arthr'])
    data = medlearn("data", "--dataset", "medquad", "--path", str(bad), "--stats")
    assert data.returncode == 2 and "line 1: not valid JSON" in data.stderr and "Traceback" not in data.stderr
    heldout = medlearn("eval", "--model", "tiny-llama-3", "--benchmark", "heldout", "--path", str(bad))
    # refused before the model loads: nothing was printed about loading it
    assert heldout.returncode == 2 and "line 1: not valid JSON" in heldout.stderr
    assert "Traceback" not in heldout.stderr and "Evaluating" not in heldout.stdout + heldout.stderr
    empty = tmp_path / "medqa.jsonl"
    empty.write_text("")
    bench = medlearn("eval", "--model", "tiny-llama-3", "--benchmark", "medqa", "--path", str(empty))
    assert bench.returncode == 2 and "is empty" in bench.stderr and "Traceback" not in bench.stderr
    limit = medlearn("data", "--dataset", "medquad", "--sample", "--limit", "-5")
    assert limit.returncode == 2 and "limit must be a positive whole number" in limit.stderr


def test_plot_reads_through_the_checked_reader(tmp_path):
    path = tmp_path / "run_loss.csv"
    path.write_bytes("step,loss\n1,2.5\n2,caf\xe9\n".encode("latin-1"))
    result = medlearn("plot", str(path), "-o", str(tmp_path / "p.png"))
    assert result.returncode == 2 and "run_loss.csv, line 3: not UTF-8" in result.stderr


# ---------------------------------------------------------------- adapters checked on load (8)

@pytest.fixture(scope="module")
def adapter(tmp_path_factory):
    return train_tiny_adapter(tmp_path_factory.mktemp("checked_adapter"), "ck", max_steps=2).adapter_dir


def copy_of(adapter, tmp_path):
    return shutil.copytree(adapter, tmp_path / "adapter")


def test_an_adapter_whose_base_disagrees_with_its_run_record_is_refused(adapter, tmp_path):
    from medlearn.adapters import load_adapter
    from medlearn.models.tiny import tiny_model_path

    folder = copy_of(adapter, tmp_path)
    config = json.loads((folder / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(tiny_model_path("gemma"))  # the wrong base
    (folder / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="disagrees about its base model.*gemma.*llama-3"):
        load_adapter(folder, load_in_4bit=False)


def test_truncated_or_missing_weights_are_a_clear_error(adapter, tmp_path):
    from medlearn.adapters import load_adapter

    folder = copy_of(adapter, tmp_path)
    weights = folder / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(ValueError, match="adapter_model.safetensors is truncated"):
        load_adapter(folder, load_in_4bit=False)
    weights.unlink()
    with pytest.raises(FileNotFoundError, match="no weights.*incomplete"):
        load_adapter(folder, load_in_4bit=False)
    chat = medlearn("chat", "--model", str(folder), "--question", "hello")
    assert chat.returncode == 2 and "no weights" in chat.stderr and "Repo id" not in chat.stderr


def test_a_damaged_run_record_is_a_clear_error(adapter, tmp_path):
    from medlearn.adapters import load_adapter

    folder = copy_of(adapter, tmp_path)
    (folder / "medlearn_run.json").write_text('{"choice": {"requ')
    with pytest.raises(ValueError, match="medlearn_run.json is unreadable"):
        load_adapter(folder, load_in_4bit=False)
