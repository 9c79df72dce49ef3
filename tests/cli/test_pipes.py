"""`coder ... | head`: a reader that closes the pipe early is not an error to report."""

from __future__ import annotations

import click
from click.testing import CliRunner

from coder.cli.common import friendly


@click.command()
@friendly
def _writes_into_a_closed_pipe():
    click.echo("first line")
    raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_ends_the_command_quietly():
    result = CliRunner().invoke(_writes_into_a_closed_pipe)
    assert result.exit_code == 1
    assert "Broken pipe" not in result.output and "Error" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
