"""Command modules: each registers its commands on the `coder` group (see cli.py)."""
