HELP = "Run the course end to end: samples -> clean/split -> fine-tune tiny llama-3, mistral, gemma -> plots."


def configure(parser):
    parser.add_argument("--model", action="append", dest="models",
                        help="a registry model to train instead of the tiny ones (GPU); repeatable")
    parser.add_argument("--max-steps", type=int, help="optimizer steps per model")
    parser.add_argument("--artifacts-dir", default="artifacts")
    parser.add_argument("--output-dir", default="outputs")


def run(args):
    from ..demo import DEMO_MODELS, run_demo

    knobs = {"max_steps": args.max_steps} if args.max_steps else {}
    run_demo(models=args.models or DEMO_MODELS, sample=not args.models,
             artifacts_dir=args.artifacts_dir, output_dir=args.output_dir, **knobs)
