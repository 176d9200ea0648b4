"""The Typer application (`hpsearch.cli._register` attaches each module's `COMMANDS` to it;
the command modules themselves never import it)."""

import typer

app = typer.Typer(
    name="hpsearch",
    help="Hyperparameter search for fully connected Keras networks, with honest k-fold CV.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
