"""``python -m adversarial``: see :mod:`adversarial.cli`."""

import sys

from adversarial.cli import main

sys.exit(main())
