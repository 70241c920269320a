"""Entry point of `python -m lenet_utils`."""

import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while PyTorch loads: one line, as during training, not a traceback
    print("error: interrupted while starting; nothing was trained.", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
