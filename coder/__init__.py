"""coder: qualitative coding of open-ended survey answers."""

__version__ = "0.2.0"
