"""`python -m booktools.handout`: write the printable plan and the student handout into the built site."""

import sys

from booktools.handout import main

sys.exit(main())
