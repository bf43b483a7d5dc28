"""``python -m vaultcache.cli``."""

import sys

from vaultcache.cli.main import main

sys.exit(main())
