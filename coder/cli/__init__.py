"""The `coder` command line: one module per command group, each a thin shell over the domain.

main.py (the group and the console script), common.py (errors, the DB argument), and a
module per step: survey, codings, codebook, suggestions, code, reports, quotes, team, serve.
"""
