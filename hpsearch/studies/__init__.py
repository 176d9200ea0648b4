"""Studies: the lab's one-factor experiments, run with repeats and judged by paired tests.

- `plan`: the studies as data (a base config plus variants differing in one field);
- `runner`: every variant x seed through `evaluate`, each run saved as it ends;
- `store`: the study directory (the one reader and writer of its files);
- `verdict`: the words around `hpsearch.stats.rank`; `budget`: what a study will cost.

Reports of a study (tables, figures, the lab report) live in `hpsearch.reports`.
"""
