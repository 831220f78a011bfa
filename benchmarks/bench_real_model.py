"""What a real model costs on this CPU: one LoRA training step and one held-out scoring, as medians.

    python benchmarks/bench_real_model.py [--model smollm2-135m-instruct] [--steps 12] [--rounds 3]

The model is a registry model that runs on a CPU (its real weights, medlearn.models.real), trained with
the demo's knobs (medlearn.demo.REAL_CPU_KNOBS) on the shipped WikiDoc + MedQuAD samples. Printed:
  step        seconds per optimizer step (median over the steps after the first, which also warms up;
              each round is a fresh train() call), and tokens per second: a batch of rows of the
              training set's mean length (cut at max_seq_length) over that median step
  scoring     seconds to score the held-out conversations (medlearn.evaluation.heldout_loss) and tokens
              per second, median over --rounds, on the base model
Figures depend on the machine and on what else runs on it: quote them with the machine they ran on.
"""
import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


class StepClock:
    """A TrainerCallback recording each optimizer step's wall time."""

    def __new__(cls):
        from transformers import TrainerCallback

        class _Clock(TrainerCallback):
            def __init__(self):
                self.seconds, self._start = [], None

            def on_step_begin(self, args, state, control, **kwargs):
                self._start = time.perf_counter()

            def on_step_end(self, args, state, control, **kwargs):
                self.seconds.append(time.perf_counter() - self._start)

        return _Clock()


def training_rounds(model, data, knobs, rounds):
    """Seconds of every optimizer step after the first, over `rounds` fresh runs."""
    from medlearn.train import train

    seconds = []
    for round_index in range(rounds):
        clock = StepClock()
        with tempfile.TemporaryDirectory() as folder:
            train(model, data.train, None, run_name=f"bench-{round_index}", artifacts_dir=f"{folder}/a",
                  output_dir=f"{folder}/o", callbacks=[clock], **knobs)
        seconds += clock.seconds[1:]  # the first step also warms up
    return seconds


def scoring_rounds(model, data, knobs, rounds):
    """(seconds per held-out scoring, scored tokens per second, mean training row length), base model."""
    from medlearn.evaluation.heldout import heldout_loss, tokenize_eval_split
    from medlearn.models import choose_model, load_model
    from medlearn.templates import prepare_tokenizer

    choice = choose_model(model)
    loaded, tokenizer = load_model(choice, knobs["max_seq_length"], load_in_4bit=False)
    tokenizer = prepare_tokenizer(tokenizer, choice.template)
    rows, _ = tokenize_eval_split(tokenizer, data.train, choice.template, knobs["max_seq_length"])
    mean_length = statistics.mean(len(row["input_ids"]) for row in rows)
    seconds, rates = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        result = heldout_loss(loaded, tokenizer, data.eval, choice.template, max_length=knobs["max_seq_length"])
        seconds.append(time.perf_counter() - started)
        rates.append(result["tokens"] / seconds[-1])
    return statistics.median(seconds), statistics.median(rates), result["tokens"], mean_length


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import unsloth  # noqa: F401  (first: it patches transformers)
    from medlearn.data import prepare_dataset
    from medlearn.demo import REAL_CPU_KNOBS

    knobs = dict(REAL_CPU_KNOBS, max_steps=args.steps, eval_steps=0, save_steps=10_000)
    data = prepare_dataset(["wikidoc", "medquad"], sample=True)
    steps = training_rounds(args.model, data, knobs, args.rounds)
    score, score_rate, scored, mean_length = scoring_rounds(args.model, data, knobs, args.rounds)
    step = statistics.median(steps)
    step_rate = knobs["per_device_train_batch_size"] * mean_length / step
    print(f"{args.model} on {os.cpu_count()} CPU threads, knobs of the demo (batch "
          f"{knobs['per_device_train_batch_size']}, <= {knobs['max_seq_length']} tokens, {knobs['precision']}, "
          f"LoRA r={knobs.get('lora_r', 16)}); medians")
    print(f"training step   {step:6.2f} s   {step_rate:8.0f} tokens/s  ({len(steps)} steps of {args.rounds} runs; "
          f"rows of {mean_length:.0f} tokens on average)")
    print(f"held-out score  {score:6.2f} s   {score_rate:8.0f} scored tokens/s  ({len(data.eval)} conversations, "
          f"{scored} answer tokens, {args.rounds} rounds)")


if __name__ == "__main__":
    main()
