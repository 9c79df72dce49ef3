"""`python -m coder`: the console script, for child processes that must run this interpreter."""

from coder.cli.main import main

if __name__ == "__main__":
    main()
