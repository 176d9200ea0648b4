"""hpsearch: honest hyperparameter search for fully connected Keras networks."""

__version__ = "0.1.0"
