"""The ``vaultcache`` command."""

from vaultcache.cli.main import main

__all__ = ["main"]
