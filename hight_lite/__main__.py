"""``python -m hight_lite``: see :mod:`hight_lite.cli`."""

import sys

from .cli import main

sys.exit(main())
