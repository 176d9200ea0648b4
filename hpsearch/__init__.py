"""hpsearch: honest hyperparameter search for fully connected Keras networks."""

import os

# TensorFlow prints C++ start-up chatter to stderr; users of a CLI should see only our lines.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow turns its oneDNN kernels on by default only for CPUs with AVX-512/AMX; on an
# AVX2 CPU (like our 2-core benchmark machine) they train our small MLPs ~20% faster than
# the default Eigen kernels (scripts/bench_tune.py). Read once, when TensorFlow loads; set
# TF_ENABLE_ONEDNN_OPTS=0 to get TensorFlow's choice back.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"
