"""Sharing: the generated model card, and a token that never appears in any output or file."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import train_tiny_adapter

from medlearn import hub

FAKE_TOKEN = "hf_" + "medlearnFAKEtoken" + "0123456789abcdefXYZ"  # built, so it never reads as a real token


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hub_run")
    return train_tiny_adapter(root, "hub", max_steps=4), root


def files_containing(root, text):
    hits = []
    for path in Path(root).rglob("*"):
        if path.is_file() and text.encode() in path.read_bytes():
            hits.append(path)
    return hits


def test_model_card_says_what_the_model_is_and_is_not(run):
    from medlearn.evaluation import evaluate_offtopic, load_for_eval, save_result
    from medlearn.inference import DISCLAIMER

    result, root = run
    artifacts = root / "artifacts"
    evaluated = load_for_eval(str(result.adapter_dir), 512)
    save_result(evaluate_offtopic(evaluated, sample=True), str(artifacts), "hub_offtopic")
    card = hub.write_model_card(result.adapter_dir, ["medquad"], str(artifacts), "me/medlearn-tiny").read_text()
    assert card.startswith("---\n") and "library_name: peft" in card and "- medical" in card
    assert "tiny-llama-3" in card and "`llama-3`" in card and "`<|eot_id|>`" in card
    assert "lavita/MedQuAD" in card or "medquad" in card.lower()
    from medlearn.data import get_source

    assert get_source("medquad").license in card
    assert "| lora_r | 16 |" in card and "| learning_rate | 0.003 |" in card
    assert "![training loss](loss.png)" in card and (result.adapter_dir / "loss.png").exists()
    assert "Off-topic behaviour: declined_non_medical" in card
    assert DISCLAIMER in card and "Intended use" in card and "not for use with patients" in card


def test_push_without_a_token_says_how_to_add_one(run, monkeypatch):
    result, root = run
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(RuntimeError, match="No Hugging Face token found.*Secrets.*HF_TOKEN"):
        hub.push_folder(result.adapter_dir, "me/medlearn-tiny", artifacts_dir=str(root / "artifacts"))
    with pytest.raises(ValueError, match="your-name/model-name"):
        hub.push_folder(result.adapter_dir, "no-slash")


@pytest.mark.parametrize("network", ["offline", "unreachable"])
def test_token_never_appears_in_output_or_files(run, tmp_path, network):
    result, root = run
    env = dict(os.environ, HF_TOKEN=FAKE_TOKEN)
    if network == "unreachable":  # online mode, but the Hub address refuses connections
        env.update(HF_HUB_OFFLINE="0", HF_ENDPOINT="http://127.0.0.1:9", HF_HUB_ETAG_TIMEOUT="2",
                   HF_HUB_DOWNLOAD_TIMEOUT="2")
    out = subprocess.run([sys.executable, "-m", "medlearn", "push", "--model", str(result.adapter_dir),
                          "--repo", "me/medlearn-tiny", "--dataset", "medquad",
                          "--artifacts-dir", str(root / "artifacts")],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert out.returncode == 2
    message = "Offline mode is on" if network == "offline" else "Pushing to me/medlearn-tiny failed"
    assert message in out.stderr and "Traceback" not in out.stderr
    assert FAKE_TOKEN not in out.stdout + out.stderr
    assert FAKE_TOKEN[3:15] not in out.stdout + out.stderr  # not even a piece of it
    assert (result.adapter_dir / "README.md").exists()
    for folder in (root, tmp_path, Path.home() / ".cache" / "huggingface"):
        assert files_containing(folder, FAKE_TOKEN) == []


def test_token_is_read_from_the_environment_without_printing_it(monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    assert hub.has_token() and hub.read_token() == FAKE_TOKEN
    assert hub.scrub(f"401 for token {FAKE_TOKEN}", FAKE_TOKEN) == "401 for token ***"
    captured = capsys.readouterr()
    assert FAKE_TOKEN not in captured.out + captured.err
