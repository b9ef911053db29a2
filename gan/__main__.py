"""``python -m gan``: see gan/cli.py."""

import sys

from gan.cli import main

sys.exit(main())
