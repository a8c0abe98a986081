"""backproplab: learn backpropagation by running, breaking and fixing it."""
from .scalar import Value

__version__ = "0.1.0"
