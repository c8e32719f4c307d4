"""`python -m ultralytics_light weights …`."""

import sys

from ultralytics_light.weights_cli import main

sys.exit(main())
