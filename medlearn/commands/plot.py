HELP = "Draw loss CSVs (medlearn's or two-column Step,Loss) on one figure."


def configure(parser):
    parser.add_argument("csv", nargs="+", help="loss CSV files")
    parser.add_argument("-o", "--output", required=True, help="PNG file to write")
    parser.add_argument("--title", default="Training loss")


def run(args):
    from ..plots import plot_loss_curves

    print(plot_loss_curves(args.csv, args.output, title=args.title))
