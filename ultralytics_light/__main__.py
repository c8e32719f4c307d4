"""`python -m ultralytics_light weights …` and `python -m ultralytics_light bench-accuracy …`."""

import sys

if sys.argv[1:2] == ["bench-accuracy"]:
    from ultralytics_light.accuracy import main

    sys.exit(main(sys.argv[2:]))

from ultralytics_light.weights_cli import main

sys.exit(main())
