"""Does the medlearn wrapper cost anything? The same tiny model, data and knobs, trained two ways.

  medlearn: medlearn.train.train(...)  (config checks, loss CSV every step, stats JSON, plots, adapter)
  direct:   FastLanguageModel + get_peft_model + TRL SFTTrainer + train_on_responses_only + save

Both render the data with medlearn.templates (identical token counts), so the comparison isolates
the training wrapper. Runs alternate (medlearn, direct, medlearn, ...), each in a fresh process;
the script prints the median seconds of each and their ratio.

    python benchmarks/bench_train_overhead.py [--steps 60] [--repeats 3]
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile

KNOBS = dict(max_steps=60, per_device_train_batch_size=4, gradient_accumulation_steps=1,
             learning_rate=3e-3, warmup_steps=2, max_seq_length=512, save_steps=10_000,
             optim="adamw_8bit", seed=3407)
MODEL = "tiny-llama-3"

VIA_MEDLEARN = """
import json, sys, time
import unsloth
from medlearn.data import prepare_dataset
from medlearn.train import train
knobs, out = json.loads(sys.argv[1]), sys.argv[2]
data = prepare_dataset(["wikidoc", "medquad"], sample=True)
start = time.perf_counter()
result = train(MODEL, data.train, run_name="overhead", artifacts_dir=out + "/a", output_dir=out + "/o", **knobs)
print("SECONDS", time.perf_counter() - start, result.stats["runtime_seconds"])
"""

DIRECT = """
import json, sys, time
from unsloth import FastLanguageModel
from unsloth.chat_templates import train_on_responses_only
from trl import SFTConfig, SFTTrainer
from medlearn.data import prepare_dataset
from medlearn.templates import add_text_column, get_template, prepare_tokenizer
from medlearn.models.tiny import tiny_model_path
knobs, out = json.loads(sys.argv[1]), sys.argv[2]
data = prepare_dataset(["wikidoc", "medquad"], sample=True)
start = time.perf_counter()
model, tokenizer = FastLanguageModel.from_pretrained(str(tiny_model_path("llama-3")),
    max_seq_length=knobs["max_seq_length"], load_in_4bit=True)
tokenizer = prepare_tokenizer(tokenizer, "llama-3")
model = FastLanguageModel.get_peft_model(model, r=16, lora_alpha=16, lora_dropout=0.0,
    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    use_gradient_checkpointing="unsloth", random_state=knobs["seed"])
trainer = SFTTrainer(model=model, processing_class=tokenizer,
    train_dataset=add_text_column(data.train, tokenizer, "llama-3"),
    args=SFTConfig(output_dir=out + "/direct", per_device_train_batch_size=knobs["per_device_train_batch_size"],
        gradient_accumulation_steps=knobs["gradient_accumulation_steps"], learning_rate=knobs["learning_rate"],
        warmup_steps=knobs["warmup_steps"], max_steps=knobs["max_steps"], optim=knobs["optim"],
        weight_decay=0.01, seed=knobs["seed"], data_seed=knobs["seed"], logging_steps=1, report_to="none",
        save_strategy="no", max_length=knobs["max_seq_length"], dataset_text_field="text", dataset_num_proc=1,
        train_sampling_strategy="group_by_length"))
spec = get_template("llama-3")
trainer = train_on_responses_only(trainer, instruction_part=spec.instruction_part, response_part=spec.response_part)
metrics = trainer.train().metrics
model.save_pretrained(out + "/direct/adapter")
tokenizer.save_pretrained(out + "/direct/adapter")
print("SECONDS", time.perf_counter() - start, metrics["train_runtime"])
"""


def run_once(code, knobs):
    with tempfile.TemporaryDirectory() as out:
        script = "MODEL = " + repr(MODEL) + "\n" + code
        result = subprocess.run([sys.executable, "-c", script, json.dumps(knobs), out],
                                capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stderr[-3000:])
    line = next(l for l in result.stdout.splitlines() if l.startswith("SECONDS"))
    total, train_loop = map(float, line.split()[1:])
    return total, train_loop


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=KNOBS["max_steps"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    knobs = dict(KNOBS, max_steps=args.steps)
    times = {"medlearn": [], "direct": []}
    for repeat in range(args.repeats):
        for name, code in (("medlearn", VIA_MEDLEARN), ("direct", DIRECT)):
            times[name].append(run_once(code, knobs))
            print(f"repeat {repeat + 1} {name:>8}: total {times[name][-1][0]:.2f} s, "
                  f"train loop {times[name][-1][1]:.2f} s", flush=True)
    total = {name: statistics.median(t[0] for t in runs) for name, runs in times.items()}
    loop = {name: statistics.median(t[1] for t in runs) for name, runs in times.items()}
    print(f"median total: medlearn {total['medlearn']:.2f} s, direct {total['direct']:.2f} s, "
          f"ratio {total['medlearn'] / total['direct']:.3f}")
    print(f"median train loop: medlearn {loop['medlearn']:.2f} s, direct {loop['direct']:.2f} s, "
          f"ratio {loop['medlearn'] / loop['direct']:.3f}")


if __name__ == "__main__":
    main()
