"""Training: the only package that imports TensorFlow (besides Keras Tuner's glue).

- `towers`: the one builder, k >= 1 towers of one config, and the plain `Sequential` a kept
  model becomes;
- `loop`: the one training loop (XLA-compiled passes, schedule, early stopping, divergence);
- `evaluate`: protocols, folds and repeats, `Result`;
- `rows`: the shared copy of the training rows; `session`: hygiene between fits.

Nothing here is imported by `import hpsearch`; TensorFlow loads on the first fit.
"""
