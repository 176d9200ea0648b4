"""The public API's implementation, re-exported lazily by `hpsearch/__init__.py`.

- `evaluation`: `cross_validate` and `train`, and their results;
- `tuning`: `tune` and the `Search` it returns;
- `study`: `study` and its `StudyResult`; `study_jobs`: one or all studies into a directory;
- `exporting`: `export` and `Exported`; `display`: how every result renders in Jupyter.

The CLI calls these same functions; nothing here prints (progress bars aside).
"""
