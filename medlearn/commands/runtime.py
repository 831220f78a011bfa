import contextlib
import json

HELP = "Report the GPU, memory, bf16 support, Colab and library versions of this machine."


def configure(parser):
    from ..profiles import PROFILES

    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--profile", choices=sorted(PROFILES),
                        help="answer as that GPU would (t4: a free Colab T4), to see the GPU-branch "
                             "decisions on a machine without it")


def run(args):
    from ..profiles import simulate
    from ..models import course_decisions, print_course_decisions
    from ..runtime import print_runtime_report, runtime_report

    with simulate(args.profile) if args.profile else contextlib.nullcontext():
        if args.profile:
            print(f"Simulated hardware profile: {args.profile} (the answers of that GPU; nothing runs on it)")
        if args.json:
            print(json.dumps(dict(runtime_report(), decisions=course_decisions()), indent=2))
            return
        print_runtime_report()
        print("\nWhat each course model would load, and its training precision:")
        print_course_decisions()
