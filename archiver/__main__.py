"""`python -m archiver`: the same command line as the `archiver` script."""

from archiver.cli import app

app(prog_name="archiver")
