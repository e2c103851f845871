"""The ``rnnkit`` command line: parses the arguments and runs the chosen application.

Each subcommand lives in its own module under ``rnnkit/apps`` (see its ``add_parser``).
A problem with the user's input (``AppError``) is printed as one line, ``rnnkit
<command>: error: ...``, with exit status 2, never as a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from rnnkit.apps import APPS
from rnnkit.apps.common import AppError


def build_parser():
    parser = argparse.ArgumentParser(
        prog="rnnkit", description="Recurrent neural networks from scratch on NumPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in APPS:
        importlib.import_module(f"rnnkit.apps.{name}").add_parser(sub)
    return parser


def main(argv=None):
    """Entry point: parse ``argv`` (default ``sys.argv[1:]``) and run the sub-command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args) or 0
    except AppError as e:
        print(f"rnnkit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rnnkit {args.command}: interrupted", file=sys.stderr)
        return 130
