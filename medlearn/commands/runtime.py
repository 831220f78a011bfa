import json

HELP = "Report the GPU, memory, bf16 support, Colab and library versions of this machine."


def configure(parser):
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args):
    from ..runtime import print_runtime_report, runtime_report

    if args.json:
        print(json.dumps(runtime_report(), indent=2))
    else:
        print_runtime_report()
