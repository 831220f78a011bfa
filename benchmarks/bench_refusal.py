"""Refusal rates with and without the refusal training mix and the inference guard.

    python benchmarks/bench_refusal.py [--model tiny-llama-3] [--steps 60] [--share 0.3] [--sample]
                                       [--path data/stay-on-topic/questions.csv]

Trains the model twice on the same medical data (once plain, once with refusal rows from
medlearn.guard.add_refusal_examples), measures each with the evaluation's off-topic metric
(medlearn.evaluation.evaluate_offtopic: greedy replies to held-out labelled questions, a reply that
opens with the course refusal counts as declined), then again with the guard in front
(medlearn.guard.offtopic_with_guard). Writes artifacts/bench_refusal.json and prints a table.
On a CPU the shipped samples are used: the held-out set is a handful of questions. With a tiny model the
numbers show only that the pipeline works; `--model smollm2-135m-instruct` trains a real model on the CPU
(medlearn.demo.REAL_CPU_KNOBS), which shows what a real model learns from the mix. `--path FILE` takes the
labelled questions (refusal rows, held-out questions, guard) from a file in the medical-questions schema,
e.g. the 439 the course wrote (medlearn.stay_on_topic.COURSE_QUESTIONS) instead of the 30-odd of the sample.
"""
import argparse
import json
import time
from pathlib import Path


def train_variant(model, data, refusal_share, steps, sample, path, artifacts, outputs):
    from medlearn.demo import cpu_knobs
    from medlearn.guard import add_refusal_examples
    from medlearn.models import choose_model
    from medlearn.train import train

    share = 0.0
    rows = data.train
    if refusal_share:
        rows, report = add_refusal_examples(data.train, refusal_share, sample=sample, path=path,
                                             return_report=True)
        share = report["share"]  # fewer non-medical questions than asked for gives a smaller share
    knobs = dict(cpu_knobs(choose_model(model)), max_steps=steps, eval_steps=0, save_steps=10_000,
                 artifacts_dir=artifacts, output_dir=outputs)
    run = f"refusal_{'mix' if refusal_share else 'plain'}"
    return train(model, rows, None, run_name=run, overwrite=True, **knobs), len(rows), share


def measure(result, guards, sample, path):
    from medlearn.evaluation import EvalModel, evaluate_offtopic
    from medlearn.guard import offtopic_with_guard

    plain = evaluate_offtopic(EvalModel(result.model, result.tokenizer, result.choice), sample=sample, path=path)
    rows = [{"guard": "off", **{k: plain[k] for k in ("declined_non_medical", "answered_medical",
                                                      "n_non_medical", "n_medical")}}]
    for name, guard in guards.items():
        rows.append({"guard": name, **offtopic_with_guard(plain, guard)})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny-llama-3")
    parser.add_argument("--datasets", default="medquad,wikidoc")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--share", type=float, default=0.3)
    parser.add_argument("--sample", action="store_true", default=None, help="shipped samples (default on a CPU)")
    parser.add_argument("--path", help="labelled questions (text, label) instead of the source")
    parser.add_argument("--artifacts-dir", default="artifacts")
    args = parser.parse_args()
    import unsloth  # noqa: F401

    from medlearn.data import prepare_dataset
    from medlearn.guard import train_guard
    from medlearn.notebook import on_gpu

    sample = (not on_gpu()) if args.sample is None else args.sample
    started = time.monotonic()
    data = prepare_dataset(args.datasets.split(","), sample=sample)
    guards = {"labelled questions only": train_guard(sample=sample, path=args.path),
              "+ medical training questions": train_guard(sample=sample, path=args.path, extra_medical=data.train)}
    table = []
    for share in (0.0, args.share):
        result, n_rows, achieved = train_variant(args.model, data, share, args.steps, sample, args.path,
                                                 args.artifacts_dir, "outputs/bench")
        for row in measure(result, guards, sample, args.path):
            label = f"refusal mix ({achieved:.1%})" if share else "plain"
            table.append({"training": label, "train_rows": n_rows, **row})
    report = {"model": args.model, "datasets": args.datasets, "steps": args.steps, "sample": sample, "path": args.path,
              "guards": {name: g.report for name, g in guards.items()}, "rates": table,
              "seconds": round(time.monotonic() - started, 1)}
    Path(args.artifacts_dir).mkdir(parents=True, exist_ok=True)
    Path(args.artifacts_dir, "bench_refusal.json").write_text(json.dumps(report, indent=2))
    import pandas as pd

    print(pd.DataFrame(table).to_string(index=False))
    for name, guard in guards.items():
        print(f"guard '{name}': {guard.report}")


if __name__ == "__main__":
    main()
