"""``python -m learning retrain [--trigger command|schedule|count] [--by USER_ID]``."""

from __future__ import annotations

import argparse
import sys

from learning.retrain import main_retrain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m learning")
    commands = parser.add_subparsers(dest="command", required=True)
    retrain = commands.add_parser(
        "retrain", help="train a candidate from the database and judge it against the current model"
    )
    retrain.add_argument("--trigger", default="command", choices=["command", "schedule", "count"])
    retrain.add_argument("--by", type=int, default=None, help="the curator who asked (Telegram id)")
    args = parser.parse_args(argv)
    return main_retrain(args.trigger, args.by)


if __name__ == "__main__":
    sys.exit(main())
