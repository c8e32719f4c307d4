"""`python -m ultralytics_light …`: the same tool as the `ultralytics-light` command."""

import sys

from ultralytics_light.cli import main

sys.exit(main())
