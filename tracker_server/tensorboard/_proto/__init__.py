"""Generated from proto/tensorboard/tensorboard_events.proto by proto/generate_tensorboard.py. Do not edit."""
