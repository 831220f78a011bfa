import json

import pandas as pd

from ..registry import registry_rows

HELP = ("List the course models: Hub id, family, template, T4 fit, precision needs, and which run on a "
        "CPU (real weights from the package index).")
COLUMNS = ["name", "family", "template", "instruct", "params_b", "fits_free_t4", "fp16_safe", "runs_on_cpu",
           "hub_id"]


def configure(parser):
    parser.add_argument("--json", action="store_true", help="print the registry as JSON")


def run(args):
    rows = registry_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        table = pd.DataFrame(rows)[COLUMNS]
        table["runs_on_cpu"] = table["runs_on_cpu"].map({True: "runs on a CPU", False: "GPU (tiny on a CPU)"})
        print(table.rename(columns={"runs_on_cpu": "where"}).to_string(index=False))
