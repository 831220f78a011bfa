"""Padding waste of the course's default batching, against plain random batches.

The lengths are synthetic, an assumption and not measured data: a prompt of 15-80 tokens plus an
answer drawn from a log-normal distribution (median 180 tokens, sigma 1.0, clipped to 20-6000), cut at
max_seq_length. A long right tail is what makes random batches wasteful; the real tail of a dataset is
`medlearn data --stats` material. For each batching we report the
share of processed tokens that are padding. The sampler is transformers' own LengthGroupedSampler
logic (`get_length_grouped_indices`), which `train_sampling_strategy="group_by_length"` uses.

    python benchmarks/bench_padding.py
"""
import argparse

import numpy as np
import torch
from transformers.trainer_pt_utils import get_length_grouped_indices


def synthetic_lengths(rows, max_seq_length, seed):
    rng = np.random.default_rng(seed)
    prompts = rng.integers(15, 80, rows)  # template + question
    answers = np.clip(rng.lognormal(mean=np.log(180), sigma=1.0, size=rows), 20, 6000).astype(int)
    return np.minimum(prompts + answers, max_seq_length).tolist()


def padding_fraction(lengths, order, batch_size):
    padded = real = 0
    for start in range(0, len(order), batch_size):
        batch = [lengths[i] for i in order[start:start + batch_size]]
        padded += max(batch) * len(batch)
        real += sum(batch)
    return 1 - real / padded


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=16000)
    parser.add_argument("--max-seq-length", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=3407)
    args = parser.parse_args()
    lengths = synthetic_lengths(args.rows, args.max_seq_length, args.seed)
    print(f"{args.rows} synthetic rows (log-normal answers, not measured), lengths: median {int(np.median(lengths))}, p90 {int(np.percentile(lengths, 90))}, "
          f"max {max(lengths)} tokens (max_seq_length {args.max_seq_length})")
    print(f"{'batch':>5} {'random batches':>15} {'group_by_length':>16} {'ratio':>6}")
    for batch_size in (2, 4, 8):
        generator = torch.Generator().manual_seed(args.seed)
        shuffled = torch.randperm(len(lengths), generator=generator).tolist()
        grouped = get_length_grouped_indices(lengths, batch_size, generator=generator)
        plain = padding_fraction(lengths, shuffled, batch_size)
        ours = padding_fraction(lengths, grouped, batch_size)
        print(f"{batch_size:>5} {plain:>14.1%} {ours:>16.1%} {plain / ours:>6.1f}x")


if __name__ == "__main__":
    main()
