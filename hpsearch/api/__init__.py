"""The public API's implementation, re-exported lazily by `hpsearch/__init__.py`.

- `evaluation`: `cross_validate` and `train`, and their results;
- `tuning`: `tune` and the `Search` it returns;
- `study`: `study` and its `StudyResult`; `study_jobs`: one or all studies into a directory;
- `tune_jobs`: a tune's dry-run budget and a worker joining a chief;
- `exporting`: `export` and `Exported`; `prediction`: an export's answers on a table;
- `display`: how every result renders in Jupyter.

The CLI calls these same functions and never imports `studies`, `search` or `training`
itself (tests/test_layout.py); nothing here prints (progress bars aside).
"""


def start_tensorflow() -> None:
    """Import TensorFlow once, with hpsearch's settings and without its C++ start-up noise.

    The CLI calls this before parsing a command that trains, so a Ctrl-C during the
    seconds-long import is caught as an interrupt; a library user never needs it (the
    first training call does the same).

    Example:
        >>> start_tensorflow()  # doctest: +SKIP
    """
    from hpsearch.training import import_tensorflow_quietly

    import_tensorflow_quietly()

