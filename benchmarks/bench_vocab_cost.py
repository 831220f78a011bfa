"""What a real vocabulary costs a tiny model: seconds per training step on this CPU, by vocabulary size.

The tiny models are 2 layers of width 64, so their embedding and output layer are most of the work as
soon as the vocabulary is real. Measured for the tiny trained vocabulary (640), Mistral's and
Llama-2's (32,768 / 32,000) and Llama 3's (128,256), on a batch like the course's tiny runs.

    python benchmarks/bench_vocab_cost.py [--steps 5] [--batch 4] [--length 200]
"""
import argparse
import time

VOCABULARIES = {"tiny trained": 640, "Mistral v3": 32768, "Llama 3": 128256}


def seconds_per_step(vocab_size, steps, batch, length):
    import torch
    import transformers

    from medlearn.models.tiny import TINY_SHAPE

    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(transformers.LlamaConfig(vocab_size=vocab_size, **TINY_SHAPE))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    ids = torch.randint(0, vocab_size, (batch, length))
    started = time.perf_counter()
    for _ in range(steps):
        model(input_ids=ids, labels=ids).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return (time.perf_counter() - started) / steps, sum(p.numel() for p in model.parameters())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--length", type=int, default=200)
    args = parser.parse_args()
    base = None
    for name, size in VOCABULARIES.items():
        seconds, params = seconds_per_step(size, args.steps, args.batch, args.length)
        base = base or seconds
        print(f"{name:<13} vocab {size:>7,}  params {params:>11,}  {seconds:.3f} s/step  x{seconds / base:.1f}")


if __name__ == "__main__":
    main()
