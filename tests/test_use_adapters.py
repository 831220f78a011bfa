"""Adapters: save/load round trip, merge, sizes, clear errors, GGUF tools check and the Ollama Modelfile."""
import json
import shutil

import pytest
from conftest import measured, train_tiny_adapter

from medlearn import adapters


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train_tiny_adapter(tmp_path_factory.mktemp("adapter_run"), "rt", max_steps=5)


def logits(model, tokenizer):
    import torch

    ids = tokenizer("What are the symptoms of asthma?", return_tensors="pt").input_ids
    model.eval()
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def greedy(model, tokenizer, choice):
    from medlearn.inference import stream_reply, ReplyInfo

    info = ReplyInfo()
    text = "".join(stream_reply(model, tokenizer, choice.template,
                                [{"role": "user", "content": "How is asthma treated?"}], 12, info))
    return text, info.new_tokens


def test_saved_adapter_loads_back_with_identical_logits(run, tmp_path):
    import torch

    copy = adapters.save_adapter(run.model, run.tokenizer, tmp_path / "saved", run.choice)
    model, tokenizer, choice = adapters.load_adapter(copy)
    assert choice.family == "llama-3" and choice.template == "llama-3"
    assert torch.equal(logits(run.model, run.tokenizer), logits(model, tokenizer))
    # The adapter really changed the model: the base alone gives other logits.
    from medlearn.models import choose_model, load_model

    base, _ = load_model(choose_model("tiny-llama-3"), 512, True)
    assert not torch.equal(logits(base, tokenizer), logits(model, tokenizer))


def test_merged_16bit_model_answers_like_base_plus_adapter(run, tmp_path):
    import torch

    from medlearn.inference import load_chat_model
    from medlearn.templates import encode_prompt

    model, tokenizer, choice = adapters.load_adapter(run.adapter_dir, load_in_4bit=False)
    expected_text, _ = greedy(model, tokenizer, choice)
    folder = adapters.save_merged(model, tokenizer, tmp_path / "merged", choice)
    assert not (folder / "adapter_config.json").exists() and (folder / "model.safetensors").exists()
    merged, merged_tokenizer, merged_choice = load_chat_model(str(folder), 512, load_in_4bit=False)
    assert not hasattr(merged, "peft_config") and merged_choice.template == "llama-3"
    # Teacher-forced on the adapter's own greedy answer: merging rounds W + BA to 16 bits once, so
    # logits agree to bf16 precision, and wherever the adapter's choice is not a near-tie (a margin
    # over twice that error) the merged model picks the same next token.
    messages = [{"role": "user", "content": "How is asthma treated?"}]
    prompt = encode_prompt(tokenizer, messages, choice.template)
    answer = tokenizer(expected_text, add_special_tokens=False).input_ids
    ids = torch.tensor([prompt + answer])
    with torch.no_grad():
        ours, theirs = (m(input_ids=ids).logits[0, len(prompt) - 1:].float() for m in (model, merged))
    error = measured("merged vs base + adapter: max logit error", (ours - theirs).abs().max().item())
    # largest seen over tools/cpu_spread.py's six CPU settings: 0.094; tolerance twice that
    assert error < 0.2, f"merged logits differ by {error} from base + adapter"
    top = ours.topk(2, dim=-1).values
    clear = (top[:, 0] - top[:, 1]) > 2 * error
    assert clear.sum() >= len(answer) // 2
    assert torch.equal(ours.argmax(-1)[clear], theirs.argmax(-1)[clear])
    # ...and the adapter is really in it: the base alone is further away than the rounding.
    from medlearn.models import choose_model, load_model

    base, _ = load_model(choose_model("tiny-llama-3"), 512, False)
    with torch.no_grad():
        plain = base(input_ids=ids).logits[0, len(prompt) - 1:].float()
    assert (plain - theirs).abs().max().item() > 2 * error


def test_merging_a_4bit_model_on_cpu_says_how_to_do_it(run, tmp_path):
    with pytest.raises(RuntimeError, match="load_in_4bit=False"):
        adapters.save_merged(run.model, run.tokenizer, tmp_path / "merged4", run.choice)


def test_adapter_is_much_smaller_than_the_model(run, capsys):
    report = adapters.size_report(run.adapter_dir)
    print(adapters.describe_sizes(report))
    assert report["base_size"] == "measured on disk"
    assert 0 < report["adapter_mb"] < report["base_mb"] / 5
    assert "MB" in capsys.readouterr().out


def test_size_of_a_real_model_is_estimated_from_the_registry(run, tmp_path):
    folder = shutil.copytree(run.adapter_dir, tmp_path / "real")
    info = json.loads((folder / "medlearn_run.json").read_text())
    info["choice"].update(requested="llama-3.1-8b-instruct", source="unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit",
                          tiny=False)
    (folder / "medlearn_run.json").write_text(json.dumps(info))
    config = json.loads((folder / "adapter_config.json").read_text())  # both files name one base
    config["base_model_name_or_path"] = "unsloth/meta-llama-3.1-8b-instruct-bnb-4bit"  # as Unsloth saves it
    (folder / "adapter_config.json").write_text(json.dumps(config))
    report = adapters.size_report(folder)
    assert report["base_mb"] == pytest.approx(16_000) and report["base_size"].startswith("estimated")


def test_adapter_for_another_family_or_missing_folder_is_a_clear_error(run, tmp_path):
    with pytest.raises(ValueError, match="llama-3 family.*cannot go on tiny-gemma.*gemma family"):
        adapters.load_adapter(run.adapter_dir, base="tiny-gemma")
    with pytest.raises(FileNotFoundError, match="No adapter folder at"):
        adapters.load_adapter(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no adapter_config.json"):
        adapters.load_adapter(tmp_path / "empty")


def test_gguf_export_without_llama_cpp_names_what_is_missing(run, tmp_path, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",  # as on a machine without the binding
                        lambda name, *a: None if name == "llama_cpp" else real_find_spec(name, *a))
    with pytest.raises(RuntimeError, match="llama-cpp-python==0.3.36.*compiler and CMake"):
        adapters.export_gguf(run.model, run.tokenizer, tmp_path / "gguf", run.choice, ["q4_k_m", "f16"])
    modelfile = (tmp_path / "gguf" / "Modelfile").read_text()
    assert modelfile.startswith("FROM ./gguf.Q4_K_M.gguf")
    assert not list((tmp_path / "gguf").glob("*.gguf"))
    with pytest.raises(ValueError, match="q4_k_m"):
        adapters.check_gguf_methods(["q3_bad"])


@pytest.mark.parametrize("template, markers", [
    ("llama-3", ["<|start_header_id|>user<|end_header_id|>", "<|eot_id|>"]),
    ("mistral", ["[INST]", "[/INST]"]),
    ("gemma", ["<start_of_turn>user", "<start_of_turn>model"]),
    ("llama-2", ["[INST]", "<<SYS>>"]),
    ("openchat", ["GPT4 Correct User:", "GPT4 Correct Assistant:"]),
])
def test_modelfile_carries_the_template_and_every_stop_token(template, markers):
    from medlearn.inference import SYSTEM_PROMPT
    from medlearn.templates import get_template, tiny_tokenizer

    text = adapters.build_modelfile(template, tiny_tokenizer(template), "./m.Q8_0.gguf")
    lines = text.splitlines()
    assert lines[0] == "FROM ./m.Q8_0.gguf" and 'TEMPLATE """' in text
    assert all(marker in text for marker in markers)
    stops = [line for line in lines if line.startswith("PARAMETER stop ")]
    for token in get_template(template).stop_tokens:
        assert f'PARAMETER stop "{token}"' in stops
    assert len(stops) == len(set(stops))
    assert f'SYSTEM """{SYSTEM_PROMPT}"""' in lines and "{__" not in text


def test_export_command_writes_gguf_files_and_chat_answers_from_one(run, tmp_path):
    import os
    import subprocess
    import sys

    from medlearn.gguf import missing_llama_cpp
    from medlearn.inference import DISCLAIMER

    if missing_llama_cpp():
        pytest.skip(missing_llama_cpp())
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, "-m", "medlearn", "export", "--model", str(run.adapter_dir),
                          "--out", str(tmp_path), "--merge", "--gguf", "q4_k_m,q8_0"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "adapter 0.0" in out.stdout and "(its tiny stand-in)" in out.stdout
    assert "merged 16-bit model" in out.stdout and (tmp_path / "merged" / "model.safetensors").exists()
    q4, q8 = tmp_path / "gguf" / "gguf.Q4_K_M.gguf", tmp_path / "gguf" / "gguf.Q8_0.gguf"
    assert q4.stat().st_size < q8.stat().st_size and f"GGUF: {q4}" in out.stdout
    assert not list((tmp_path / "gguf").glob("*F16*"))  # the 16-bit step is not kept when not asked for
    assert (tmp_path / "gguf" / "Modelfile").read_text().startswith("FROM ./gguf.Q4_K_M.gguf")
    chat = subprocess.run([sys.executable, "-m", "medlearn", "chat", "--gguf", str(q8), "--question",
                           "What is asthma?", "--max-new-tokens", "8"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert chat.returncode == 0, chat.stderr[-2000:]
    assert "llama.cpp" in chat.stderr and chat.stdout.rstrip().endswith(DISCLAIMER)
    answer = chat.stdout.split("> What is asthma?\n", 1)[1].split("---")[0].strip()
    assert answer  # the model said something before the disclaimer
