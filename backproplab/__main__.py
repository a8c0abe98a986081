"""``python -m backproplab``: the same command as ``backproplab``."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
