HELP = ("Run the course end to end: samples -> clean/split -> fine-tune SmolLM2-135M-Instruct on the CPU -> "
        "plots, held-out loss and its answer before and after.")


def configure(parser):
    parser.add_argument("--model", action="append", dest="models",
                        help="a model to train instead (a registry model on a GPU, tiny-FAMILY anywhere); repeatable")
    parser.add_argument("--max-steps", type=int, help="optimizer steps per model")
    parser.add_argument("--artifacts-dir", default="artifacts")
    parser.add_argument("--output-dir", default="outputs")


def run(args):
    from ..demo import DEMO_MODELS, run_demo
    from ..models.choice import cuda_available

    knobs = {"max_steps": args.max_steps} if args.max_steps else {}
    run_demo(models=args.models or DEMO_MODELS, sample=not (args.models and cuda_available()),
             artifacts_dir=args.artifacts_dir, output_dir=args.output_dir, **knobs)
