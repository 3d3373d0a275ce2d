"""``python -m bot``: starts the command line, which lives in the application package
(``partage.cli``) because it builds the features; this module only keeps the documented start
command. It is the one import from ``bot`` upward, named in the layer contracts."""

import sys

from partage.cli import main

if __name__ == "__main__":
    sys.exit(main())
