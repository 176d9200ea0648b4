"""hpsearch: honest hyperparameter search for fully connected Keras networks."""

import os

# TensorFlow prints C++ start-up chatter to stderr; users of a CLI should see only our lines.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
