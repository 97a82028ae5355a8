"""The ``storylines`` command: one Typer app, each command in its own module."""

from typing import Annotated

import typer

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Which news reports tell the same story, in any language.",
)
eval_app = typer.Typer(no_args_is_help=True, help="Measure quality against labelled data.")
app.add_typer(eval_app, name="eval")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="STORYLINES_DB",
        show_envvar=True,
        help="Store: a SQLite file or a postgresql:// URL (default: storylines.db in the user data folder).",
    ),
]
