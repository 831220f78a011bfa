"""`medlearn` / `python -m medlearn`: one subcommand per course step.

Each subcommand lives in medlearn/commands/NAME.py with HELP, configure(parser) and run(args);
this file only lists them, so adding a step is adding a module and one line here.
"""
import argparse
import importlib
import sys

SUBCOMMANDS = ["runtime", "models", "tiny", "prompts", "data", "train", "plot", "demo", "eval",
               "chat", "export", "push", "serve", "memory"]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="medlearn", description="The medlearn course: fine-tune medical LLMs with Unsloth.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"medlearn.commands.{name}")
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        code = args.handler(args)
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        # Learner-facing errors carry their own explanation; a traceback would bury it.
        print(f"medlearn {args.command}: error: {error}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code or 0)
