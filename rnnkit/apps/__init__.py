"""The ``rnnkit`` command's applications, one module per subcommand.

Each module defines ``add_parser(subparsers)``, which registers its subcommand and sets
``run`` (a function of the parsed arguments returning an exit status) as a default;
``rnnkit.cli`` only parses and dispatches. Shared pieces: ``common`` (options, progress,
logs, errors) and ``modeldir`` (the model directory every app writes).
"""

# The subcommands, in the order ``rnnkit --help`` lists them.
APPS = ("demo", "classify", "forecast", "plot")
