"""The MobileNetV2 row class, made from families.py like every family's (rows.py). A module of its own:
checkpoints pickle the class as `ultralytics_light.mobilenetv2.MobileNetV2`, a released path that keeps loading."""

from ultralytics_light.rows import row_classes

globals().update(row_classes(__name__))
