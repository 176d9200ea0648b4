"""Search: Keras Tuner's own oracles driving one `Tuner` whose trials call `evaluate`.

- `space`: the knobs a tuner varies and the `ModelConfig` each pick becomes;
- `tuner`: the oracles, the `Tuner` (one `run_trial`) and `run_search`;
- `pruning`: the per-epoch median rule; `budget`: `--dry-run`'s estimate;
- `project`: the tune project directory (the one reader and writer of its files);
  `results`: its results table; `best`: the best trial, ready to refit;
- `distributed`: chief and workers; `tensorboard`: TensorBoard runs from trial records.
"""
