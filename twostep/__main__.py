"""``python -m twostep``: Ctrl-C while the package still imports ends quietly too."""

import sys

try:
    from twostep.interfaces.cli import main
except KeyboardInterrupt:
    sys.stderr.write("interrupted: nothing was written\n")
    sys.exit(130)

sys.exit(main())
