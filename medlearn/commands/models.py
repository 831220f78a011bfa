import json

import pandas as pd

from ..registry import registry_rows

HELP = "List the course models: Hub id, family, template, T4 fit and precision needs."
COLUMNS = ["name", "family", "template", "instruct", "params_b", "fits_free_t4", "fp16_safe", "hub_id"]


def configure(parser):
    parser.add_argument("--json", action="store_true", help="print the registry as JSON")


def run(args):
    rows = registry_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(pd.DataFrame(rows)[COLUMNS].to_string(index=False))
