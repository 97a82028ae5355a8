"""The ``storylines`` command: one Typer app, each command in its own module."""

import typer

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Which news reports tell the same story, in any language.",
)
eval_app = typer.Typer(no_args_is_help=True, help="Measure quality against labelled data.")
app.add_typer(eval_app, name="eval")
