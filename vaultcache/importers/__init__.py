"""Importers that bring other caches' entries into a vaultcache (requests-cache's, for now)."""
