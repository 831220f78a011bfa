"""Questions per second of zero-shot option scoring: medlearn vs lm-evaluation-harness, same questions, same model.

    python benchmarks/bench_eval.py [--family llama-3] [--batch-size 8] [--rounds 7]
    python benchmarks/bench_eval.py --real smollm2-135m-instruct   # a real model that runs on a CPU

For each shipped benchmark sample (PubMedQA's official-test rows, MedQA, MedMCQA) and the tiny model of
a family (or, with --real, a real CPU model's folder) in float32 on the CPU:
  lm-eval       lm-eval's HFLM on the tiny model folder, scoring the requests its own task built
                (lm.loglikelihood: tokenizing and scoring, as lm-eval runs them);
  leaderboard   medlearn's leaderboard protocol on the same folder: building lm-eval's prompts,
                tokenizing and scoring;
  lm-eval chat  lm-eval with --apply_chat_template (the family's chat template around its prompt),
                the lm-eval run closest to medlearn's chat protocol;
  chat          medlearn's chat protocol (family chat template, its own instruction), same questions.
The runs alternate within each round, so a busy machine slows all of them alike; each one's best
round (the least disturbed by other processes) is reported. Ratios: leaderboard / lm-eval, chat / lm-eval chat (questions per second).
Agreement of the leaderboard run with lm-eval: the share of questions whose best option is the same, and
the largest difference of one option's log-likelihood (tests/test_eval_lm_eval.py holds it to 1e-4).
Needs lm-eval (a test dependency: pip install lm-eval==0.4.13 -c requirements.txt).
"""
import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def published_rows(name):
    """The sample's rows as lm-eval should read them (PubMedQA: the official test ids, as medlearn scores)."""
    from medlearn.evaluation import read_pubmedqa_test_ids
    from medlearn.data.benchmarks import sample_path

    rows = [json.loads(line) for line in sample_path(name).read_text().splitlines()]
    if name == "pubmedqa":
        rows = [row for row in rows if str(row["pubid"]) in read_pubmedqa_test_ids()]
    return rows


def seconds(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def agreement(ours, theirs):
    """(share of questions with the same best option, largest |log-likelihood difference|)."""
    from medlearn.evaluation.scoring import argmax

    same = sum(argmax(row["scores"]) == argmax(lls) for row, lls in zip(ours, theirs))
    largest = max(abs(a - b) for row, lls in zip(ours, theirs) for a, b in zip(row["scores"], lls))
    return same / len(theirs), largest


def bench_one(name, evaluated, lm, lm_chat, folder, batch_size, rounds):
    """Best seconds per run of each contender on one benchmark, the number of questions, and the
    leaderboard run's agreement with lm-eval."""
    from medlearn.evaluation import load_benchmark
    from medlearn.evaluation.lm_eval_reference import (lm_eval_loglikelihoods, lm_eval_requests, load_lm_eval_task,
                                                       write_lm_eval_file)
    from medlearn.evaluation.scoring import score_questions

    data_file = write_lm_eval_file(name, published_rows(name), Path(folder) / f"{name}.jsonl")
    task = load_lm_eval_task(name, data_file)
    requests = lm_eval_requests(task)
    chat_task = load_lm_eval_task(name, data_file)
    chat_task.build_all_requests(apply_chat_template=True, chat_template=lm_chat.apply_chat_template)
    chat_requests = chat_task.instances
    questions = load_benchmark(name, sample=True).questions
    model, tokenizer, template = evaluated.model, evaluated.tokenizer, evaluated.choice.template
    lettered = name != "pubmedqa"
    runs = {
        "lm-eval": lambda: lm.loglikelihood(requests, disable_tqdm=True),
        "leaderboard": lambda: score_questions(model, tokenizer, questions, protocol="leaderboard",
                                               benchmark=name, batch_size=batch_size),
        "lm-eval chat": lambda: lm_chat.loglikelihood(chat_requests, disable_tqdm=True),
        "chat": lambda: score_questions(model, tokenizer, questions, template, lettered, protocol="chat",
                                        batch_size=batch_size),
    }
    for run in runs.values():  # warm-up: first calls pay for lazy imports and allocations
        run()
    times = {label: [] for label in runs}
    for _ in range(rounds):
        for label, run in runs.items():
            times[label].append(seconds(run))
    ours, _ = score_questions(model, tokenizer, questions, protocol="leaderboard", benchmark=name,
                              batch_size=batch_size)
    agreed = agreement(ours, lm_eval_loglikelihoods(lm, task, requests))
    return len(questions), {label: min(values) for label, values in times.items()}, agreed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="llama-3")
    parser.add_argument("--batch-size", type=int, default=8, help="the same for lm-eval and medlearn")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--real", help="a registry model that runs on a CPU (medlearn models), instead of a tiny one")
    args = parser.parse_args()

    import unsloth  # noqa: F401  (first: it patches transformers)

    from medlearn.evaluation import BENCHMARKS, load_for_eval
    from medlearn.evaluation.lm_eval_reference import lm_eval_model
    from medlearn.models.real import real_model_path
    from medlearn.models.tiny import tiny_model_path

    folder = real_model_path(args.real) if args.real else tiny_model_path(args.family)
    evaluated = load_for_eval(str(folder), 1024, load_in_4bit=False, dtype="float32")
    lm = lm_eval_model(folder, batch_size=args.batch_size, dtype="float32")
    # The same weights with the tokenizer medlearn prepared, which carries the family chat template.
    lm_chat = lm_eval_model(folder, tokenizer=evaluated.tokenizer, batch_size=args.batch_size, dtype="float32")
    print(f"{args.real or 'tiny ' + args.family} ({folder.name}), float32 on the CPU, batch size {args.batch_size}, "
          f"best of {args.rounds} alternating rounds; questions/s")
    print(f"{'benchmark':10}{'n':>4}{'lm-eval':>9}{'leaderboard':>13}{'ratio':>7}"
          f"{'lm-eval chat':>14}{'chat':>8}{'ratio':>7}{'same best':>11}{'max |dLL|':>11}")
    with tempfile.TemporaryDirectory() as scratch:
        for name in BENCHMARKS:
            n, best, (same, largest) = bench_one(name, evaluated, lm, lm_chat, scratch, args.batch_size, args.rounds)
            rate = {label: n / value for label, value in best.items()}
            print(f"{name:10}{n:>4}{rate['lm-eval']:>9.1f}{rate['leaderboard']:>13.1f}"
                  f"{rate['leaderboard'] / rate['lm-eval']:>6.2f}x{rate['lm-eval chat']:>14.1f}"
                  f"{rate['chat']:>8.1f}{rate['chat'] / rate['lm-eval chat']:>6.2f}x{same:>10.0%}{largest:>11.1e}")


if __name__ == "__main__":
    main()
