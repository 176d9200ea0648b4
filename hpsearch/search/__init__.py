"""Search: Keras Tuner's oracles driving one `Tuner` whose trials call `evaluate`.

- `spec`: `TuneSpec`, every tune setting with its one default; resume compared once;
- `session`: one tune run (directory, lock, the search in process or with workers);
- `project`: the tune project directory (the one reader and writer of its files);
  `trial_record`: one trial's record (`TrialRecord`);
  `view`: `Project.view()`, the trials ranked, counted and the best picked once;
  `results`: its results table; `best`: the best trial, ready to refit;
- `oracles/`: one module per algorithm, plugged in through one hook; `kt_adapter`: every
  private Keras Tuner member we touch; `tuner`: the `Tuner` (one `run_trial`), `run_search`;
- `space`: the knobs a tuner varies and the `ModelConfig` each pick becomes;
- `pruning`: the per-epoch median rule; `budget`: `--dry-run`'s estimate;
- `distributed`, `chief_watch`: chief and workers; `tensorboard`: runs from trial records.
"""
