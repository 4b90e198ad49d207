"""``python -m cnnlab.course`` is ``cnnlab-course``."""
import sys

from .cli import main

sys.exit(main())
