"""The main job: the whole course pipeline in a few minutes, offline, on the CPU.

Load the shipped samples of two sources, clean and split them, fine-tune a real pretrained model
(SmolLM2-135M-Instruct, whose weights come from the package index) with its own template, write the
run's artifacts, and show its held-out loss and its answer to the same question before and after.
`models=["tiny-llama-3", ...]` runs the tiny stand-ins instead; on a GPU, `models=
["llama-3.1-8b-instruct"]` runs the same pipeline on a large registry model.
"""
import time

import pandas as pd

DEMO_SOURCES = ("wikidoc", "medquad")
DEMO_MODELS = ("smollm2-135m-instruct",)
# Tiny models, only briefly warmed up on text, need a high learning rate to show learning in a few dozen steps.
TINY_KNOBS = dict(max_steps=40, per_device_train_batch_size=4, gradient_accumulation_steps=1,
                  learning_rate=3e-3, warmup_steps=2, max_seq_length=512, eval_steps=10,
                  save_steps=20, optim="adamw_8bit")
# A real 135M model on 2 CPU cores: 16-bit LoRA (bitsandbytes' CPU 4-bit is slower), short sequences,
# batch 4, 20 steps at a learning rate a short run can show; float32, so every CPU trains it alike.
# About 2 s a step: `python benchmarks/bench_real_model.py` prints what a step and a scoring cost.
REAL_CPU_KNOBS = dict(max_steps=20, per_device_train_batch_size=4, gradient_accumulation_steps=1,
                      learning_rate=1e-3, warmup_steps=2, max_seq_length=256, load_in_4bit=False,
                      precision="fp32", eval_steps=10, save_steps=20, optim="adamw_torch")
QUESTION = "What are the symptoms of asthma?"


def cpu_knobs(choice):
    """The knobs a model needs on this machine: tiny stand-ins and real CPU models have their own."""
    if choice.tiny:
        return TINY_KNOBS
    from .models.choice import cuda_available
    from .registry import MODELS

    spec = MODELS.get(choice.requested)
    return REAL_CPU_KNOBS if spec and spec.runs_on_cpu and not cuda_available() else {}


def run_demo(models=DEMO_MODELS, sources=DEMO_SOURCES, sample=True, artifacts_dir="artifacts",
             output_dir="outputs", overwrite=True, **knobs):
    """Train every model in `models` on `sources`; returns the summary table (a DataFrame).

    overwrite=True: the demo trains its runs again each time it runs (and says so when it replaces
    one); overwrite=False refuses to replace a finished run of the same name.
    """
    from .data import prepare_dataset
    from .models import choose_model
    from .train import build_config

    build_config(**knobs)  # a bad knob fails now, not after the data is prepared
    # First, say what will train: on a CPU a registry name trains its tiny stand-in.
    print("Models: " + "; ".join(choose_model(name).describe() for name in models), flush=True)
    started = time.monotonic()
    print(f"[1/3] Loading and cleaning {', '.join(sources)} ({'shipped samples' if sample else 'Hub'})")
    data = prepare_dataset(list(sources), sample=sample)
    print(f"      train {len(data.train)} rows, eval {len(data.eval)} rows")
    for report in data.reports.values():
        print(f"      {report}")
    rows = []
    for index, model_name in enumerate(models, start=1):
        print(f"[2/3] Fine-tuning {model_name} ({index}/{len(models)})")
        rows.append(_train_one(model_name, data, artifacts_dir, output_dir, overwrite, knobs))
    summary = pd.DataFrame(rows)
    print(f"[3/3] Done in {time.monotonic() - started:.0f} s. Loss curves: {artifacts_dir}/all_models.png")
    print(summary.drop(columns=["answer", "answer_before"]).to_string(index=False))
    for row in rows:
        print(f"\n{row['model']} answers {QUESTION!r}\n  before fine-tuning: {row['answer_before']!r}\n"
              f"  after:              {row['answer']!r}")
    return summary


def _train_one(model_name, data, artifacts_dir, output_dir, overwrite, knobs):
    from .inference import before_and_after
    from .models import choose_model
    from .train import train

    # A registry name on a CPU trains its tiny stand-in or its real CPU weights: each has its knobs.
    run_knobs = dict(cpu_knobs(choose_model(model_name)), **knobs)
    result = train(model_name, data.train, data.eval, run_name=model_name.replace(".", "_"),
                   artifacts_dir=artifacts_dir, output_dir=output_dir, overwrite=overwrite, **run_knobs)
    stats = result.stats
    before, answer = before_and_after(result, [{"role": "user", "content": QUESTION}], max_new_tokens=40)
    return {"model": model_name, "template": result.choice.template, "steps": stats["steps"],
            "final_loss": round(stats["final_loss"], 3), "eval_before": stats["eval_loss_before"],
            "eval_after": stats["eval_loss_after"], "seconds": round(stats["runtime_seconds"], 1),
            "answer_before": before, "answer": answer}
