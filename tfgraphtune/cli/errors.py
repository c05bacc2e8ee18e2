"""The CLI's error type, in its own module so ``python -m tfgraphtune.cli.main`` catches it.

(Run as ``__main__``, ``main.py`` is loaded twice; a class defined there would exist twice.)
"""


class UserError(Exception):
    """A mistake in the command line or config that the user can fix; printed, no traceback."""
