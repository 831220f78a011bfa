"""A new user's bad inputs end in one clear sentence, early: typed options, model names, ports,
offline models, plots of broken CSVs, and web messages too long to read."""
import os
import socket
import subprocess
import sys
import time

import pytest

from conftest import REPO
from medlearn.artifacts import write_json, write_loss_rows


def medlearn(*args, env=None):
    return subprocess.run([sys.executable, "-m", "medlearn", *args], capture_output=True, text=True, cwd=REPO,
                          env=dict(os.environ, **(env or {})))


# ---------------------------------------------------------------- typed options (5)

def test_set_values_are_typed_and_checked():
    from medlearn.train import build_config

    assert build_config(load_in_4bit="False").load_in_4bit is False
    assert build_config(max_steps="100", learning_rate="2e-4").learning_rate == 2e-4
    assert build_config(target_modules="q_proj, v_proj").target_modules == ("q_proj", "v_proj")
    for knob, value, says in [("max_steps", "abc", "whole number"), ("max_steps", "2.5", "whole number"),
                              ("max_steps", 0, "at least 1"), ("learning_rate", 0, "positive"),
                              ("per_device_train_batch_size", -2, "at least 1"), ("load_in_4bit", "maybe", "true or false"),
                              ("warmup_steps", -1, "0 or more"), ("lora_dropout", 1.5, "fraction")]:
        with pytest.raises(ValueError, match=f"{knob}=.*{says}"):
            build_config(**{knob: value})


def test_cli_refuses_a_bad_option_before_loading_anything():
    started = time.monotonic()
    result = medlearn("train", "--model", "tiny-gemma", "--dataset", "medquad", "--sample", "--set", "max_steps=2.5")
    assert result.returncode == 2 and "max_steps='2.5': expected a whole number" in result.stderr
    assert "Traceback" not in result.stderr and "Training" not in result.stdout
    assert time.monotonic() - started < 60


# ---------------------------------------------------------------- say what runs (6)

def test_train_says_first_that_a_tiny_model_stands_in():
    result = medlearn("train", "--model", "llama-3.1-8b-instruct", "--dataset", "nosuch", "--sample")
    assert result.stdout.splitlines()[0].startswith("medlearn train: llama-3.1-8b-instruct -> tiny offline llama-3")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_train_checks_the_model_name_before_preparing_data():
    result = medlearn("train", "--model", "nosuch-7b", "--dataset", "medquad,wikidoc", "--sample")
    assert result.returncode == 2 and "Unknown model 'nosuch-7b'" in result.stderr
    assert result.stdout == ""  # no data preparation, no cleaning report


# ---------------------------------------------------------------- no traceback (9)

def test_busy_port_is_refused_before_the_model_loads():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = medlearn("serve", "--model", "llama-3.1-8b-instruct", "--port", str(port))
    assert result.returncode == 2 and f"Port {port} on 127.0.0.1 is not free" in result.stderr
    assert f"--port {port + 1}" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout.splitlines()[0].startswith("medlearn serve: llama-3.1-8b-instruct -> tiny offline")


def test_offline_hub_model_ends_in_one_sentence_and_debug_shows_the_traceback():
    result = medlearn("chat", "--model", "someone/not-cached-model", "--question", "hi", env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "could not reach the Hugging Face Hub" in result.stderr and "HF_HUB_OFFLINE" in result.stderr
    debug = medlearn("chat", "--model", "someone/not-cached-model", "--question", "hi", "--debug",
                     env={"HF_HUB_OFFLINE": "1"})
    assert "Traceback" in debug.stderr and "could not reach the Hugging Face Hub" in debug.stderr


def test_missing_file_is_one_sentence(tmp_path):
    result = medlearn("plot", str(tmp_path / "nosuch.csv"), "-o", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "nosuch.csv" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- plots and file modes (11)

def test_plot_refuses_all_nan_and_marks_non_finite_losses(tmp_path):
    from medlearn.plots import plot_loss_curves

    nan_csv = tmp_path / "nan_loss.csv"
    nan_csv.write_text("step,loss\n1,nan\n2,nan\n")
    with pytest.raises(ValueError, match="nan_loss.csv: no finite loss"):
        plot_loss_curves([nan_csv], tmp_path / "nan.png")
    result = medlearn("plot", str(nan_csv), "-o", str(tmp_path / "nan.png"))
    assert result.returncode == 2 and not (tmp_path / "nan.png").exists()

    inf_csv = tmp_path / "inf_loss.csv"
    inf_csv.write_text("step,loss\n1,2.0\n2,inf\n3,1.8\n")
    import matplotlib.pyplot as plt

    seen = {}
    original = plt.Axes.legend
    plt.Axes.legend = lambda self, *a, **k: seen.setdefault("labels", self.get_legend_handles_labels()[1]) and original(self, *a, **k)
    try:
        plot_loss_curves([inf_csv], tmp_path / "inf.png")
    finally:
        plt.Axes.legend = original
    assert "inf: 1 non-finite loss(es)" in seen["labels"]


def test_plot_prints_the_path_it_wrote(tmp_path):
    csv = tmp_path / "run_loss.csv"
    write_loss_rows(csv, [{"step": s, "loss": 2.0 - s / 10} for s in range(1, 6)])
    result = medlearn("plot", str(csv), "-o", str(tmp_path / "p8"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "p8.png") and (tmp_path / "p8.png").exists()


def test_atomic_writes_use_the_normal_file_mode(tmp_path):
    from medlearn.artifacts import normal_file_mode

    write_json(tmp_path / "stats.json", {"a": 1})
    assert (tmp_path / "stats.json").stat().st_mode & 0o777 == normal_file_mode()


# ---------------------------------------------------------------- web page limits (10)

class CountingTokenizer:
    """The tiny Llama-3 tokenizer, recording the longest text it was asked to tokenize."""

    def __init__(self, tokenizer):
        self.inner, self.longest = tokenizer, 0

    def __call__(self, text, *args, **kwargs):
        self.longest = max(self.longest, len(text) if isinstance(text, str) else 0)
        return self.inner(text, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_huge_message_is_refused_before_it_is_tokenized():
    from medlearn import webapp
    from medlearn.inference import DISCLAIMER_BLOCK
    from medlearn.templates import tiny_tokenizer

    tokenizer = CountingTokenizer(tiny_tokenizer("llama-3"))
    respond = webapp.make_responder(object(), tokenizer, "llama-3", max_new_tokens=8, max_context=256)
    started = time.monotonic()
    reply = list(respond("cough " * 5_000_000, []))[-1]  # 30 MB
    assert time.monotonic() - started < 2 and tokenizer.longest <= webapp.MAX_MESSAGE_CHARS
    assert "too long for this page (30,000,000 characters)" in reply and reply.endswith(DISCLAIMER_BLOCK)
    reply = list(respond("cough " * 600, []))[-1]  # under the character cap, over the token cap
    assert "too long for this page" in reply and "tokens" in reply


def test_generation_stops_at_the_time_limit():
    from transformers import AutoModelForCausalLM

    from medlearn import webapp
    from medlearn.templates import prepare_tokenizer
    from medlearn.models.tiny import tiny_model_path
    from transformers import AutoTokenizer

    folder = tiny_model_path("llama-3")
    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(folder), "llama-3")
    respond = webapp.make_responder(model, tokenizer, "llama-3", max_new_tokens=1500, max_context=2048,
                                    max_seconds=0.3)
    started = time.monotonic()
    reply = list(respond("What is asthma?", []))[-1]
    assert time.monotonic() - started < 3
    assert "time limit of 0.3 s" in reply


def test_the_page_is_public_only_when_asked(monkeypatch):
    from medlearn import webapp

    assert webapp.launch_options(7000) == {"server_name": "127.0.0.1", "server_port": 7000, "share": False}
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert webapp.launch_options(7000)["share"] is False
    assert webapp.launch_options(7000, share=True)["share"] is True


def test_a_killed_tiny_build_leaves_nothing_behind_after_the_next_build(tmp_path):
    from medlearn.cache import remove_abandoned_builds

    dead = subprocess.Popen(["true"])
    dead.wait()
    abandoned = tmp_path / f".llama-3-{dead.pid}-x1y2z3"  # a build killed by SIGKILL: no clean-up ran
    live = tmp_path / f".gemma-{os.getpid()}-a1b2c3"  # a build running now in another process
    for folder in (abandoned, live):
        (folder / "part").mkdir(parents=True)
    assert remove_abandoned_builds(tmp_path) == [abandoned]
    assert not abandoned.exists() and live.exists()
