"""The one way tests invoke the command line, so a test cannot mistake a crash for a refusal."""

from __future__ import annotations

import traceback

from click.testing import CliRunner, Result

from coder.cli.main import cli


def run(*args, input: str | bytes | None = None, env: dict[str, str] | None = None, ok: bool | None = True) -> Result:
    """Run `coder ARGS` in-process.

    ok=True: it must succeed; ok=False: it must refuse cleanly (non-zero exit, no uncaught exception,
    as CoderError gives); ok=None: the caller judges the result itself.
    """
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env)
    if ok is not None:
        crash = result.exception is not None and not isinstance(result.exception, SystemExit)
        assert not crash, "".join(traceback.format_exception(*result.exc_info))
        assert (result.exit_code == 0) == ok, result.output
    return result
