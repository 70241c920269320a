"""Entry point of `python -m lenet_utils`."""

import sys

from .cli import main

sys.exit(main())
