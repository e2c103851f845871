"""The ``rnnkit`` command line. Sub-commands grow with the apps; ``demo`` is the first."""
from __future__ import annotations

import argparse
import sys


def build_parser():
    parser = argparse.ArgumentParser(
        prog="rnnkit", description="Recurrent neural networks from scratch on NumPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo", help="walk through the tutorials' NumPy RNN and train a tiny LSTM by BPTT")
    demo.add_argument("--steps", type=int, default=150,
                      help="training steps for the LSTM (default: 150)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return parser


def main(argv=None):
    """Entry point: parse ``argv`` (default ``sys.argv[1:]``) and run the sub-command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.steps < 1:
            parser.error(f"--steps must be >= 1, got {args.steps}")
        from rnnkit.demo import run_demo

        run_demo(steps=args.steps, seed=args.seed)
        return 0
    parser.print_help(sys.stderr)
    return 2
