"""Reports: markdown (the source), self-contained HTML, figures and tables.

- `writer`: `hpsearch report DIR` for either kind of directory; `html`: markdown -> HTML;
- `trials`, `search`, `search_figures`: the report of a tune project;
- `study_summary`, `study_figures`, `study`, `lab`: a study's summary, figures, report and
  the `study all` lab report.

Reports read directories only through `hpsearch.search.project` and
`hpsearch.studies.store`. (The package is `reports`, not `report`, so that it never shadows
the public function `hpsearch.report`.)
"""
