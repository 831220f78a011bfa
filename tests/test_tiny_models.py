"""Tiny offline models: real family classes and special tokens, deterministic, and trainable in 4-bit."""
import hashlib

import pytest
import torch
from conftest import measured

from medlearn.registry import FAMILIES
from medlearn.models.tiny import RECIPE_VERSION, RECIPES, build_model, build_tokenizer, tiny_model_path

ARCHITECTURES = {"llama-2": "LlamaForCausalLM", "llama-3": "LlamaForCausalLM",
                 "mistral": "MistralForCausalLM", "gemma": "Gemma2ForCausalLM",
                 "openchat": "MistralForCausalLM", "chatml": "LlamaForCausalLM"}
MUST_HAVE = {
    "llama-2": ["<s>", "</s>"],
    "llama-3": ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
    "mistral": ["<s>", "</s>", "[INST]", "[/INST]"],
    "gemma": ["<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>"],
    "openchat": ["<s>", "<|end_of_turn|>"],
    "chatml": ["<|im_start|>", "<|im_end|>", "<|endoftext|>"],
}


@pytest.mark.parametrize("family", FAMILIES)
def test_special_tokens_are_single_ids_and_bos_is_added_once(family):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_path(family))
    for token in MUST_HAVE[family]:
        ids = tokenizer(token, add_special_tokens=False).input_ids
        assert ids == [tokenizer.convert_tokens_to_ids(token)], f"{token} is not one token"
    ids = tokenizer("What is anemia?").input_ids
    if RECIPES[family].adds_bos:
        assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 1
    else:  # ChatML, as SmolLM2: the template opens every turn with <|im_start|>, the tokenizer adds nothing
        assert tokenizer.bos_token_id not in ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == "What is anemia?"
    assert tokenizer.chat_template is None  # the templates module supplies one


@pytest.mark.parametrize("family", FAMILIES)
def test_tiny_model_uses_the_family_architecture(family):
    import json

    config = json.loads((tiny_model_path(family) / "config.json").read_text())
    assert config["architectures"] == [ARCHITECTURES[family]]


def test_build_is_deterministic():
    recipe = RECIPES["llama-3"]
    first, second = build_tokenizer(recipe), build_tokenizer(recipe)
    assert first.get_vocab() == second.get_vocab()
    weights = [build_model("llama-3", recipe, first).state_dict() for _ in range(2)]
    for name, tensor in weights[0].items():
        assert torch.equal(tensor, weights[1][name]), name


def test_cached_build_is_reused(tmp_path, monkeypatch, capfd):
    import unsloth  # noqa: F401  (its banner is not the build's)

    monkeypatch.setenv("MEDLEARN_CACHE", str(tmp_path))
    capfd.readouterr()
    path = tiny_model_path("gemma")
    # A notebook cell that builds a tiny model first (a fresh cache) must not fail nbval on stderr output.
    assert "Writing model shards" not in capfd.readouterr().err
    digest = hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()
    stamp = (path / "model.safetensors").stat().st_mtime_ns
    assert tiny_model_path("gemma") == path
    assert (path / "model.safetensors").stat().st_mtime_ns == stamp
    assert len(digest) == 64
    assert [p.name for p in path.parent.iterdir()] == [f"gemma-v{RECIPE_VERSION}"]  # no half-built leftovers


@pytest.mark.parametrize("family", FAMILIES)
def test_unsloth_4bit_lora_sft_lowers_the_loss(family, tmp_path):
    from unsloth import FastLanguageModel  # noqa: I001  (Unsloth first: it patches transformers)
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from medlearn.models import choose_model, load_model

    model, tokenizer = load_model(choose_model(f"tiny-{family}"), max_seq_length=128)
    linear = model.model.layers[0].self_attn.q_proj
    assert type(linear).__name__ == "Linear4bit"
    model = FastLanguageModel.get_peft_model(
        model, r=8, lora_alpha=16, random_state=3407,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    text = "Anemia means too few red blood cells. Iron deficiency is a common cause."
    trainer = SFTTrainer(
        model=model, processing_class=tokenizer,
        train_dataset=Dataset.from_dict({"text": [text] * 16}),
        args=SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=2, max_steps=8,
                       learning_rate=5e-3, logging_steps=1, report_to="none", seed=3407,
                       save_strategy="no", max_length=128),
    )
    trainer.train()
    losses = [row["loss"] for row in trainer.state.log_history if "loss" in row]
    assert len(losses) == 8
    # At least 1.82 (openchat) over tools/cpu_spread.py's six CPU settings: 0.2 still means learning.
    assert measured(f"tiny {family}: first - last loss", losses[0] - losses[-1]) > 0.2, losses
