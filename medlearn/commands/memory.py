import json

HELP = "Will a run fit? Estimate fine-tuning's peak GPU memory, or compare the estimate with Unsloth's T4 runs."


def configure(parser):
    parser.add_argument("--model", help="short name (medlearn models) or tiny-FAMILY")
    parser.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE",
                        help="a training option as in `medlearn train`, e.g. --set max_seq_length=4096")
    parser.add_argument("--gpu-gb", type=float, help="GPU memory to fit in (default: this GPU, else a T4)")
    parser.add_argument("--compare", action="store_true",
                        help="print the estimate beside Unsloth's published T4 figures")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args):
    from ..memory import compare_published, plan_memory
    from .train import parse_knobs

    if args.compare:
        return _print_comparison(compare_published(), args.json)
    if not args.model:
        raise ValueError("Give --model NAME (see `medlearn models`), or --compare.")
    plan = plan_memory(args.model, parse_knobs(args.set), args.gpu_gb)
    if args.json:
        print(json.dumps({"model": plan.model, "gpu_gb": round(plan.gpu_gb, 3), "gpu": plan.gpu,
                          "parts_gb": {k: round(v, 3) for k, v in plan.parts.items()},
                          "peak_gb": plan.peak_gb, "alive_gb": plan.alive_gb, "fits": plan.fits,
                          "advice": plan.advice}, indent=2))
    else:
        print(plan.describe())
    return 0 if plan.fits else 1


def _print_comparison(rows, as_json):
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    print("| model | after load: published | after load: estimate | peak: published | peak: estimate "
          "(full-length batch) | published in unslothai/notebooks |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['model']} | {row['after_load_published']:.2f} | {row['after_load_estimate']:.2f} | "
              f"{row['peak_published']:.2f} | {row['peak_estimate']:.2f} | {row['source']} |")
    return 0
