import sys

from twostep.cli import main

sys.exit(main())
