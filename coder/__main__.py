"""`python -m coder`: the console script, for child processes that must run this interpreter."""

from .cli import main

main()
