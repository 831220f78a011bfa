"""`medlearn` / `python -m medlearn`: one subcommand per course step.

Each subcommand lives in medlearn/commands/NAME.py with HELP, configure(parser) and run(args);
this file only lists them, so adding a step is adding a module and one line here. No traceback
reaches a learner: every error ends in one sentence saying what to do (`--debug` shows the traceback).
"""
import argparse
import importlib
import sys
import traceback

SUBCOMMANDS = ["runtime", "models", "tiny", "prompts", "data", "train", "plot", "demo", "eval",
               "chat", "export", "push", "serve", "memory"]
DEBUG_HELP = "show the full Python traceback of an error (for a bug report)"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="medlearn", description="The medlearn course: fine-tune medical LLMs with Unsloth.")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"medlearn.commands.{name}")
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(sub)
        # SUPPRESS: `medlearn --debug train` and `medlearn train --debug` both work.
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
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
    except KeyboardInterrupt:
        print(f"\nmedlearn {args.command}: interrupted.", file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # noqa: BLE001  (every error is explained; --debug adds the traceback)
        if args.debug:
            traceback.print_exc()
        print(f"medlearn {args.command}: error: {explain(error)}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code or 0)


def explain(error):
    """One sentence for a learner: our own errors speak for themselves; known library ones get advice."""
    if is_offline_error(error):
        return (f"could not reach the Hugging Face Hub ({type(error).__name__}: {first_line(error)}). "
                "Connect to the internet (and unset HF_HUB_OFFLINE), log in for a gated model "
                "(huggingface-cli login), or use a tiny-FAMILY model or a local folder.")
    if isinstance(error, (ValueError, FileNotFoundError, RuntimeError, PermissionError)):
        return str(error)
    if isinstance(error, OSError):
        return (f"{type(error).__name__}: {first_line(error)}. Check the path or the network, "
                "then run again (add --debug to see where it happened).")
    return (f"unexpected {type(error).__name__}: {first_line(error)}. Run again with --debug to see "
            "the traceback, and include it if you report the problem.")


def is_offline_error(error):
    """Hub access failed: offline mode, no network, or a missing entry in the local cache."""
    names = {cls.__name__ for cls in type(error).__mro__}
    hub_errors = {"OfflineModeIsEnabled", "LocalEntryNotFoundError", "ConnectionError", "ConnectTimeout",
                  "HfHubHTTPError", "GatedRepoError", "RepositoryNotFoundError"}
    text = str(error)
    return bool(names & hub_errors) or ("HF_HUB_OFFLINE" in text) or (
        isinstance(error, OSError) and "huggingface.co" in text)


def first_line(error):
    text = str(error).strip().splitlines()
    return text[0][:300] if text else "no message"
