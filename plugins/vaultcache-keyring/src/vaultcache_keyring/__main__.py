"""``python -m vaultcache_keyring``."""

import sys

from vaultcache_keyring.cli import main

sys.exit(main())
