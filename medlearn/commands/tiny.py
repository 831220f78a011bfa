from ..registry import FAMILIES

HELP = "Build (once) the tiny offline model of a family and print its folder."


def configure(parser):
    parser.add_argument("family", help=f"one of: {', '.join(FAMILIES)}")


def run(args):
    from ..models.tiny import tiny_model_path

    print(tiny_model_path(args.family))
