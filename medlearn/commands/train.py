HELP = "Fine-tune a model on one or more datasets with Unsloth 4-bit LoRA (T4-safe defaults)."


def configure(parser):
    parser.add_argument("--model", required=True, help="short name (medlearn models) or tiny-FAMILY")
    parser.add_argument("--dataset", required=True, help="source name(s), comma-separated (medlearn data --list)")
    parser.add_argument("--sample", action="store_true", help="use the shipped sample files (offline)")
    parser.add_argument("--run-name", help="name of the run's artifacts (default: the model name; a name an "
                                           "earlier run used gets a suffix, -2, -3 ...)")
    parser.add_argument("--resume", action="store_true",
                        help="continue this run's newest complete checkpoint (same options, data and seed)")
    parser.add_argument("--overwrite", action="store_true",
                        help="delete an earlier run of this name and train it again from scratch")
    parser.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE",
                        help="override a training option, e.g. --set max_steps=100 (repeatable)")


def parse_knobs(pairs):
    """`key=value` strings to a dict of strings; medlearn.train.build_config parses each to its type."""
    knobs = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise ValueError(f"--set {pair!r}: expected KNOB=VALUE, e.g. --set max_steps=100.")
        knobs[key.strip()] = value
    return knobs


def run(args):
    from ..models import choose_model
    from ..train import build_config

    if args.resume and args.overwrite:
        raise ValueError("--resume continues a run and --overwrite deletes it: pass one of them.")
    knobs = parse_knobs(args.set)
    build_config(**knobs)  # typed and checked before anything loads
    choice = choose_model(args.model)  # an unknown name fails here, before data preparation
    print(f"medlearn train: {choice.describe()}", flush=True)
    from ..data import prepare_dataset
    from ..train import train

    data = prepare_dataset(args.dataset.split(","), sample=args.sample)
    result = train(args.model, data.train, data.eval, run_name=args.run_name, resume=args.resume,
                   overwrite=args.overwrite, **knobs)
    print(f"adapter: {result.adapter_dir}\nloss CSV: {result.loss_csv}\nstats: {result.stats_json}\n"
          f"plot: {result.plot_png}")
