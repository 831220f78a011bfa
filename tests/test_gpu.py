"""GPU check suite (`make gpu-check`): the CUDA path that the T4 profile can only simulate.

Skipped without CUDA, so `make test` on a CPU machine runs none of it. On any CUDA machine it trains
each tiny family through Unsloth's CUDA path in fp16, as on a T4, and measures a randomly initialised
model with Llama-3.1-8B's exact shapes in 4-bit (no download) with notebook 04's settings, printed
beside medlearn's memory plan. Run it with `-s` to see the figures.
"""
import json
import time

import pytest

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (make gpu-check)")]

FAMILIES = ["llama-3", "mistral", "gemma"]


def test_medlearn_asks_what_unsloth_answers_about_bf16():
    import unsloth

    from medlearn.runtime import native_bf16

    assert unsloth.DEVICE_TYPE == "cuda"
    assert native_bf16() == unsloth.is_bfloat16_supported()
    major, _ = torch.cuda.get_device_capability()
    assert native_bf16() == (major >= 8)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_tiny_family_trains_in_fp16_through_unsloths_cuda_path(family, tmp_path):
    import unsloth  # noqa: F401

    from medlearn.data import prepare_dataset
    from medlearn.demo import TINY_KNOBS
    from medlearn.train import train

    data = prepare_dataset(["medquad", "wikidoc"], sample=True)
    result = train(f"tiny-{family}", data.train, data.eval, run_name=f"gpu-{family}",
                   **dict(TINY_KNOBS, max_steps=20, precision="fp16", artifacts_dir=str(tmp_path / "a"),
                          output_dir=str(tmp_path / "o")))
    assert next(result.model.parameters()).device.type == "cuda"
    assert result.stats["eval_loss_after"] < result.stats["eval_loss_before"]
    config = json.loads((result.adapter_dir / "training_config.json").read_text())
    assert config["precision_used"] == "fp16"
    assert result.model.get_input_embeddings().weight.dtype == torch.float16


def llama_31_8b_shaped_folder(folder):
    """A randomly initialised model with Llama-3.1-8B's exact config, saved as fp16 shards (~16 GB)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig

    from medlearn.footprint import SHAPES
    from medlearn.models.tiny import tiny_model_path

    shape = SHAPES["llama-3.1-8b-instruct"]
    config = LlamaConfig(
        num_hidden_layers=shape.layers, hidden_size=shape.hidden, intermediate_size=shape.intermediate,
        vocab_size=shape.vocab, num_attention_heads=shape.heads, num_key_value_heads=shape.kv_heads,
        head_dim=shape.head_dim, tie_word_embeddings=shape.tied, max_position_embeddings=131072,
        rope_theta=500000.0, rms_norm_eps=1e-5, torch_dtype="float16")
    with torch.device("cuda"):  # random fp16 weights: memory and speed, not quality
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float16)
    model.save_pretrained(folder, max_shard_size="4GB")
    del model
    torch.cuda.empty_cache()
    # Any tokenizer works for random weights; the tiny llama-3 one carries the real special tokens.
    AutoTokenizer.from_pretrained(tiny_model_path("llama-3")).save_pretrained(folder)
    return folder


def test_llama_31_8b_shapes_on_this_gpu_beside_the_memory_plan(tmp_path):
    """Notebook 04's settings on 8B shapes: peak reserved memory and seconds per step vs the plan."""
    import unsloth  # noqa: F401
    from unsloth import FastLanguageModel

    from medlearn.memory import plan_memory
    from medlearn.train import ALL_PROJECTIONS, build_config

    config = build_config()  # notebook 04 on a T4: the defaults, batch 2 x 4, 2048 tokens
    folder = llama_31_8b_shaped_folder(tmp_path / "llama-3.1-8b-shaped")
    torch.cuda.reset_peak_memory_stats()
    model, _ = FastLanguageModel.from_pretrained(str(folder), max_seq_length=config.max_seq_length,
                                                 load_in_4bit=True, dtype=torch.float16)
    model = FastLanguageModel.get_peft_model(
        model, r=config.lora_r, lora_alpha=config.lora_alpha, target_modules=list(ALL_PROJECTIONS),
        use_gradient_checkpointing="unsloth", random_state=config.seed)
    seconds = train_steps(model, config, steps=3)
    peak_gb = torch.cuda.max_memory_reserved() / 1024**3
    plan = plan_memory("llama-3.1-8b-instruct", config)
    print(f"\nLlama-3.1-8B shapes, 4-bit, notebook 04 settings, full {config.max_seq_length}-token rows "
          f"on {torch.cuda.get_device_name(0)}: peak reserved {peak_gb:.2f} GB, "
          f"{seconds:.2f} s per optimizer step; memory plan {plan.peak_gb:.2f} GB "
          f"(ratio measured/plan {peak_gb / plan.peak_gb:.2f})")
    assert peak_gb < 15, "notebook 04's settings must fit a T4"
    assert 0.6 < peak_gb / plan.peak_gb < 1.4, plan.describe()


def train_steps(model, config, steps):
    """Seconds per optimizer step of fp16 training with adamw_8bit on full-length random rows."""
    import bitsandbytes

    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = bitsandbytes.optim.AdamW8bit(trainable, lr=config.learning_rate)
    scaler = torch.amp.GradScaler("cuda")
    rows = torch.randint(0, 128000, (config.per_device_train_batch_size, config.max_seq_length), device="cuda")
    model.train()
    timings = []
    for _ in range(steps):
        start = time.perf_counter()
        for _ in range(config.gradient_accumulation_steps):
            with torch.autocast("cuda", dtype=torch.float16):
                loss = model(input_ids=rows, labels=rows).loss / config.gradient_accumulation_steps
            scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        timings.append(time.perf_counter() - start)
    return min(timings[1:] or timings)  # the first step pays for compilation and allocation
