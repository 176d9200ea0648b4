"""`hpsearch predict EXPORT ROWS`: an exported model's answers on raw table rows."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hpsearch.cli.options import Json, emit


def predict(
    export_dir: Annotated[Path, typer.Argument(
        help="The --out directory of `hpsearch export` (model.keras + model_card.json).",
        show_default=False)],
    rows: Annotated[Path, typer.Argument(
        help="A .csv/.tsv/.parquet table with the feature columns the model was trained on "
             "(raw values: the card's encoding and scaling are applied).", show_default=False)],
    out: Annotated[Path | None, typer.Option(
        help="Write the predictions (and one probability column per class) to this CSV "
             "instead of printing them.")] = None,
    json_out: Json = False,
) -> None:
    """Predict the class of every row with an exported model, in the original labels.

    If the table also holds the training's target column, the accuracy against it is shown.

    Example: hpsearch predict export/ new_rows.csv --out predictions.csv
    """
    from hpsearch.api.prediction import predict

    frame, accuracy = predict(export_dir, rows)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
    counts = frame["prediction"].astype(str).value_counts().sort_index()
    payload = {"rows": len(frame), "accuracy": accuracy, "counts": counts.to_dict(),
               "out": str(out) if out else None,
               "predictions": None if out else frame["prediction"].tolist()}

    def render() -> None:
        if out is None:
            frame[["prediction"]].to_csv(sys.stdout, index=False)
        summary = ", ".join(f"{name} {n}" for name, n in counts.items())
        scored = f"; accuracy {accuracy:.4f} against the table's labels" \
            if accuracy is not None else ""
        typer.echo(f"{len(frame)} rows: {summary}{scored}" + (f"; wrote {out}" if out else ""),
                   err=out is None)

    emit(payload, json_out, render)


# registered on the app, in this order, by hpsearch.cli._register
COMMANDS = (predict,)
