"""``tfgraphtune datasets``: list known data sets and describe one."""

from __future__ import annotations

import argparse
import json

from tfgraphtune.cli.main import add_data_dir_argument


def register(subparsers) -> None:
    parser = subparsers.add_parser("datasets", help="list and describe the known data sets")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser("list", help="names of the known data sets")
    listing.set_defaults(handler=_list)
    describe = actions.add_parser("describe", help="node/edge/feature/class counts and splits")
    describe.add_argument("name", help="data set name, e.g. cora, citeseer, pubmed, mutag, tu:NAME")
    describe.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_data_dir_argument(describe)
    describe.set_defaults(handler=_describe)


def _list(args: argparse.Namespace) -> int:
    from tfgraphtune.data.datasets.registry import dataset_names

    for name in dataset_names():
        print(name)
    print("tu:NAME  (any TU Dortmund graph classification set)")
    return 0


def _describe(args: argparse.Namespace) -> int:
    from tfgraphtune.data.datasets.registry import load_dataset

    facts = load_dataset(args.name, args.data_dir).describe()
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    for key, value in facts.items():
        if key == "split":
            value = "/".join(str(v) for v in value.values()) + " (" + "/".join(value) + ")"
        elif key == "notes":
            value = "; ".join(value) if value else "-"
        print(f"{key:>15}: {value}")
    return 0
