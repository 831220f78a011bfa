import json

HELP = "Fine-tune a model on one or more datasets with Unsloth 4-bit LoRA (T4-safe defaults)."


def configure(parser):
    parser.add_argument("--model", required=True, help="short name (medlearn models) or tiny-FAMILY")
    parser.add_argument("--dataset", required=True, help="source name(s), comma-separated (medlearn data --list)")
    parser.add_argument("--sample", action="store_true", help="use the shipped sample files (offline)")
    parser.add_argument("--run-name", help="name of the run's artifacts (default: the model name)")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    parser.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE",
                        help="override a training option, e.g. --set max_steps=100 (repeatable)")


def parse_knobs(pairs):
    """`key=value` strings to a dict, values parsed as JSON where they can be (numbers, booleans)."""
    knobs = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise ValueError(f"--set {pair!r}: expected KNOB=VALUE, e.g. --set max_steps=100.")
        try:
            knobs[key] = json.loads(value)
        except json.JSONDecodeError:
            knobs[key] = value
    return knobs


def run(args):
    from ..data import prepare_dataset
    from ..train import train

    knobs = parse_knobs(args.set)
    data = prepare_dataset(args.dataset.split(","), sample=args.sample)
    result = train(args.model, data.train, data.eval, run_name=args.run_name, resume=args.resume, **knobs)
    print(f"adapter: {result.adapter_dir}\nloss CSV: {result.loss_csv}\nstats: {result.stats_json}\n"
          f"plot: {result.plot_png}")
