"""The Typer application every command module attaches to (kept apart from `cli/__init__`,
which imports the command modules, so that no module imports one that imports it)."""

import typer

app = typer.Typer(
    name="hpsearch",
    help="Hyperparameter search for fully connected Keras networks, with honest k-fold CV.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
