"""Questions per second of zero-shot option scoring on a tiny model: batched vs one question at a time.

    python benchmarks/bench_eval.py [--family llama-3] [--style text] [--batch-size 8] [--repeats 3]

Three ways to score the same questions (shipped MedQA + MedMCQA samples):
  reference   every option as its own full sequence (the prompt runs once per option)
  one-by-one  one question at a time, prompt run once and reused for all options (batch size 1)
  batched     several questions per forward pass, prompts reused (medlearn's default)
The tiny model makes the model cheap, so this mostly measures per-call overhead; on a GPU with a
7B model, the saving from reusing the prompt (k options -> 1 prompt pass) grows with prompt length.
"""
import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def timed(function, repeats):
    """Best wall time of `repeats` runs (the least disturbed by other processes) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="llama-3")
    parser.add_argument("--style", default="letter", choices=["letter", "text"])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import unsloth  # noqa: F401  (first: it patches transformers)
    from datasets import concatenate_datasets

    from medlearn.evaluation import load_benchmark, load_for_eval
    from medlearn.evaluation.scoring import (encode_questions, pad_token_id, score_encoded,
                                             score_question_without_cache)

    evaluated = load_for_eval("tiny-" + args.family, max_seq_length=1024)
    questions = concatenate_datasets([load_benchmark(name, sample=True).questions for name in ("medqa", "medmcqa")])
    encoded = encode_questions(evaluated.tokenizer, questions, evaluated.choice.template, style=args.style)
    pad = pad_token_id(evaluated.tokenizer)
    n = len(encoded)
    runs = {
        "reference": lambda: [score_question_without_cache(evaluated.model, q) for q in encoded],
        "one-by-one": lambda: score_encoded(evaluated.model, encoded, pad, batch_size=1),
        "batched": lambda: score_encoded(evaluated.model, encoded, pad, batch_size=args.batch_size),
    }
    seconds = {name: timed(run, args.repeats)[0] for name, run in runs.items()}
    print(f"{n} questions, {args.style} replies, tiny {args.family}, batch size {args.batch_size}, "
          f"best of {args.repeats}")
    for name, value in seconds.items():
        print(f"  {name:11} {n / value:8.1f} questions/s")
    print(f"batched / one-by-one: {seconds['one-by-one'] / seconds['batched']:.2f}x; "
          f"batched / reference: {seconds['reference'] / seconds['batched']:.2f}x")


if __name__ == "__main__":
    main()
