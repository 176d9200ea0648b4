"""``hpsearch playground``: one run, a multi-seed sweep, or the lab's Task 6.

Thin layer: parse options, call the library, print. Library errors (PlaygroundError) become
one ``error: ...`` line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from contextlib import contextmanager, suppress
from functools import wraps
from pathlib import Path
from typing import Annotated

import typer

from .config import PlaygroundConfig, parse_layers
from .errors import InvalidValueError, NetworkShapeError, PlaygroundError

app = typer.Typer(
    help="A faithful TensorFlow Playground simulator (numpy/numba, never TensorFlow).\n\n"
    "Example: hpsearch playground --nodes 3 --reg l1 --reg-rate 0.003 (pictures: playground-runs/)",
    no_args_is_help=False,
    add_completion=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Folder for the PNG pictures.")]
RUNS_DIR = Path("playground-runs")  # like tune's tune-project/: one sub-folder per setting
SUBCOMMANDS = ("sweep", "task6", "serve")  # serve: added by hpsearch/cli (the web side)
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress lines.")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _guarded(func):
    """Turn library errors into one line on stderr and exit 2."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except PlaygroundError as exc:
            raise _fail(str(exc)) from None

    return wrapper


class _Painter:
    """Draws the pictures in a forked process that imports matplotlib while we train.

    matplotlib's import and first drawing take about as long as loading the kernel and a
    500-epoch run; on a second CPU they overlap with training. If the fork is not available
    or the child fails, the pictures are drawn here instead (same result).
    """

    def __init__(self):
        self.conn = self.proc = None
        try:
            ctx = multiprocessing.get_context("fork")
            self.conn, child = ctx.Pipe()
            self.proc = ctx.Process(target=_paint_in_child, args=(child, self.conn),
                                    daemon=True)
            self.proc.start()
            child.close()
        except (ValueError, OSError):  # pragma: no cover - no fork on this platform
            self.conn = self.proc = None

    def paint(self, result, out: Path, show_test: bool) -> list[Path]:
        from .grid import grid_maps

        grids = grid_maps(result)  # uses the kernel, which is loaded here, not in the child
        if self.conn is not None:
            try:
                self.conn.send((result, grids, Path(out), show_test))
                status, payload = self.conn.recv()
                if status == "ok":
                    return payload
            except (EOFError, OSError):
                pass
            finally:
                self.close()
        from .plots import plot_run

        return plot_run(result, Path(out), show_test=show_test, grids=grids)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.proc.join(timeout=10)
            self.conn = self.proc = None


_early_painter: _Painter | None = None


def start_painter_early(argv: list[str]) -> None:
    """Fork the painter before argument parsing when a single run will draw (the default).

    Called by ``hpsearch``'s entry point with its raw arguments: typer's parsing takes
    ~0.25 s that the painter's matplotlib import can overlap. A painter that goes unused
    (bad options, a sweep) exits when this process closes its end of the pipe.
    """
    global _early_painter
    wants_pictures = "--no-plots" not in argv and not {"--help", "-h"} & set(argv)
    if wants_pictures and not set(SUBCOMMANDS) & set(argv) and _early_painter is None:
        _early_painter = _Painter()


def _take_painter() -> _Painter:
    global _early_painter
    painter, _early_painter = _early_painter, None
    return painter if painter is not None else _Painter()


def _paint_in_child(conn, parent_end) -> None:
    parent_end.close()  # the fork copied it: keep only the parent's, so its exit means EOF here
    try:
        from .plots import plot_run, warm_up

        warm_up()  # while the parent trains
        result, grids, out, show_test = conn.recv()
        conn.send(("ok", plot_run(result, out, show_test=show_test, grids=grids)))
    except EOFError:  # the parent needed no pictures after all
        pass
    except BaseException as exc:  # noqa: BLE001 - the parent draws instead
        with suppress(OSError):
            conn.send(("error", repr(exc)))
    finally:
        conn.close()


@contextmanager
def _numba_first_load_lean():
    """Keep numba's first compile-or-load from importing scipy's BLAS and cffi (~0.35 s).

    numba imports scipy.linalg's BLAS to offer np.dot & co. in compiled code, and cffi (which
    compiles pycparser's regexes) to accept cffi functions; the playground kernels use
    neither. While the first kernel loads, both are marked missing; afterwards the marks are
    removed, so scipy and cffi themselves still import normally.
    """
    blocked = [key for key in ("scipy.linalg.cython_blas", "cffi") if key not in sys.modules]
    for key in blocked:
        sys.modules[key] = None
    try:
        yield
    finally:
        for key in blocked:
            if key in sys.modules and sys.modules[key] is None:
                del sys.modules[key]


def _hidden(nodes: int | None, layers: str | None) -> tuple[int, ...]:
    if nodes is not None and layers is not None:
        raise NetworkShapeError("give either --nodes (one hidden layer) or --layers, not both")
    if layers is not None:
        return parse_layers(layers)
    if nodes is not None:
        return (nodes,)
    return (4, 2)  # the site's default network


def _int_list(text: str, what: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidValueError(f"cannot read {what} {text!r}; give integers like 2,3,4") from None


def _epoch_label(epoch: int) -> str:
    """The site's counter: zero-padded to 6 digits with a thousands comma (000,250)."""
    return f"{epoch // 1000:03d},{epoch % 1000:03d}"


@app.callback(invoke_without_command=True)
@_guarded
def run(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option(help="circle, xor, gauss, spiral, reg-plane, reg-gauss")
                       ] = "circle",
    nodes: Annotated[int | None, typer.Option(help="One hidden layer of N neurons (1-8).")] = None,
    layers: Annotated[str | None, typer.Option(help="Neurons per hidden layer, e.g. 4,2 "
                                               "('none' for no hidden layer).")] = None,
    activation: Annotated[str, typer.Option(help="tanh, relu, sigmoid or linear")] = "tanh",
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 0.03,
    reg: Annotated[str, typer.Option(help="Regularization: none, l1 or l2.")] = "none",
    reg_rate: Annotated[float, typer.Option(help="Regularization rate.")] = 0.0,
    batch_size: Annotated[int, typer.Option(help="Examples per weight update.")] = 10,
    noise: Annotated[float, typer.Option(help="Noise in percent (site: 0-50).")] = 0,
    ratio: Annotated[float, typer.Option(help="Training share in percent (site: 10-90).")] = 50,
    features: Annotated[str, typer.Option(help="Inputs: x1,x2,x1^2,x2^2,x1*x2,sin(x1),sin(x2)")
                        ] = "x1,x2",
    epochs: Annotated[int, typer.Option(help="Epochs (one epoch = one pass).")] = 500,
    seed: Annotated[str, typer.Option(help="Site seed like 0.12345 (exact replay of the site) "
                                      "or an integer (numpy stream).")] = "0.12345",
    out: Annotated[Path | None, typer.Option(
        "--out", help=f"Folder for the pictures (default: {RUNS_DIR}/ and a sub-folder "
                      "named by data set, layers, settings, epochs and seed).",
        show_default=False)] = None,
    plots: Annotated[bool, typer.Option(
        "--plots/--no-plots", help="Draw the decision boundary, each neuron's map, the "
                                   "network's weights and the loss curves.")] = True,
    export_keras: Annotated[Path | None, typer.Option(
        "--export-keras", help="Save the trained network as a Keras model (FILE.keras): "
                               "same features and weights, input the raw point (x1, x2).",
        metavar="FILE")] = None,
    show_test: Annotated[bool, typer.Option(help="Draw test points too.")] = False,
    json_out: JsonOpt = False,
    quiet: Annotated[bool, typer.Option(help="No progress lines: only the final line.")] = False,
) -> None:
    """Train one network like the site, print epoch, test and training loss, and draw it.

    Example: hpsearch playground --nodes 3 --reg l1 --reg-rate 0.003 --export-keras pg.keras
    """
    if ctx.invoked_subcommand is not None:
        return
    if export_keras is not None:
        from .keras_export import check_target

        check_target(export_keras)  # refuse before training, not after
    config = PlaygroundConfig(
        dataset=dataset, features=features, hidden=_hidden(nodes, layers), activation=activation,
        learning_rate=lr, regularization=reg, reg_rate=reg_rate, batch_size=batch_size,
        noise=noise, ratio=ratio, epochs=epochs, seed=seed,
    )
    chatty = not (quiet or json_out)
    if config.regularization != "none" and config.reg_rate == 0:
        typer.echo(f"note: --reg {config.regularization} with --reg-rate 0 changes nothing "
                   "(the site's default rate is 0; the lab's Task 6 uses --reg-rate 0.003)",
                   err=True)
    started = time.perf_counter()

    def progress(epoch: int, train: float, test: float) -> None:
        if not chatty or epoch == config.epochs:
            return
        if config.epochs >= 2000 or epoch % max(1, config.epochs // 5) < 50:
            elapsed = time.perf_counter() - started
            eta = elapsed / epoch * (config.epochs - epoch)
            typer.echo(f"Epoch {_epoch_label(epoch)}  Test loss {test:.3f}  "
                       f"Training loss {train:.3f}  (ETA {eta:.1f} s)", err=True)

    chunk = 50 if config.epochs < 2000 else max(50, config.epochs // 40)
    if plots and out is None:
        out = RUNS_DIR / config.slug()
    painter = _take_painter() if plots else None  # forked before numba loads
    try:
        with _numba_first_load_lean():
            from .trainer import simulate

            result = simulate(config, on_progress=progress, chunk=chunk)
        pictures = painter.paint(result, out, show_test) if painter is not None else []
    finally:
        if painter is not None:
            painter.close()
    model = None
    if export_keras is not None:
        from .keras_export import export_keras as save_keras  # TensorFlow only when asked

        model = save_keras(result, export_keras)
    if json_out:
        payload = result.to_json()
        payload["pictures"] = [str(p) for p in pictures]
        payload["keras_model"] = str(model) if model else None
        typer.echo(json.dumps(payload))
        return
    typer.echo(f"Epoch {_epoch_label(result.epoch[-1])}  Test loss {result.test_loss[-1]:.3f}  "
               f"Training loss {result.train_loss[-1]:.3f}")
    if pictures and not quiet:
        typer.echo("pictures: " + ", ".join(str(p) for p in pictures))
    if model is not None and not quiet:
        typer.echo(f"keras model: {model} (input: the raw point x1, x2; output: the network's "
                   "value, > 0 = class +1)" if not config.is_regression
                   else f"keras model: {model} (input: the raw point x1, x2)")


@app.command()
@_guarded
def sweep(
    dataset: Annotated[str, typer.Option(help="Data set for every run.")] = "circle",
    nodes: Annotated[str, typer.Option(help="Neurons in the one hidden layer, e.g. 2,3,4")
                     ] = "2,3,4",
    reg: Annotated[str, typer.Option(help="Regularizations to try, e.g. none,l1,l2")] = "none",
    reg_rate: Annotated[float, typer.Option(help="Rate for l1/l2.")] = 0.003,
    seeds: Annotated[int, typer.Option(help="Seeds 0..N-1 per configuration.")] = 100,
    epochs: Annotated[int, typer.Option(help="Epochs per run.")] = 1000,
    activation: Annotated[str, typer.Option(help="Hidden activation.")] = "tanh",
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 0.03,
    batch_size: Annotated[int, typer.Option(help="Batch size.")] = 10,
    noise: Annotated[float, typer.Option(help="Noise in percent.")] = 0,
    ratio: Annotated[float, typer.Option(help="Training share in percent.")] = 50,
    features: Annotated[str, typer.Option(help="Input features.")] = "x1,x2",
    out: OutOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train every nodes x reg configuration on many seeds at once; summarise the spread.

    Example: hpsearch playground sweep --nodes 2,3,4 --reg none,l1,l2 --seeds 100
    """
    from .sweep import grid

    combos = grid(_int_list(nodes, "--nodes"), [r for r in reg.split(",") if r.strip()],
                  reg_rate)
    base = PlaygroundConfig(dataset=dataset, features=features, hidden=(2,),
                            activation=activation, learning_rate=lr, batch_size=batch_size,
                            noise=noise, ratio=ratio, epochs=epochs)
    _report_sweep(base, combos, seeds, epochs, out, json_out, quiet, explain=False)


@app.command()
@_guarded
def task6(
    seeds: Annotated[int, typer.Option(help="Seeds 0..N-1 per configuration.")] = 100,
    epochs: Annotated[int, typer.Option(help="Epochs per run.")] = 1000,
    out: OutOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Lab Task 6: circle, 1 hidden layer, tanh, lr 0.03; 2 vs 3 neurons, 4 with L1 / L2."""
    from .sweep import TASK6_CONFIGS

    base = PlaygroundConfig(dataset="circle", hidden=(2,), activation="tanh",
                            learning_rate=0.03, epochs=epochs)
    _report_sweep(base, TASK6_CONFIGS, seeds, epochs, out, json_out, quiet, explain=True)


def _report_sweep(base, combos, seeds, epochs, out, json_out, quiet, explain) -> None:
    from .sweep import format_table, lab_versus_run, run_sweep, task6_explanation

    started = time.perf_counter()

    def tick(done: int, total: int) -> None:
        if not (json_out or quiet) and sys.stderr.isatty():
            typer.echo(f"  {done}/{total} configurations ({time.perf_counter() - started:.1f} s)",
                       err=True)

    with _numba_first_load_lean():
        rows = run_sweep(base, combos, seeds, epochs, on_config=tick)
    elapsed = time.perf_counter() - started
    picture = None
    if out is not None:
        from .plots import plot_sweep

        picture = plot_sweep(rows, Path(out) / "sweep.png",
                             f"{base.dataset}, {seeds} seeds x {epochs} epochs")
    if json_out:
        payload = {"runs": [row.summary() for row in rows], "seconds": elapsed}
        if picture is not None:
            payload["picture"] = str(picture)
        typer.echo(json.dumps(payload))
        return
    typer.echo(f"{base.dataset}: {seeds} seeds x {epochs} epochs per configuration, "
               f"{len(rows) * seeds} runs in {elapsed:.1f} s")
    typer.echo(format_table(rows))
    if explain:
        typer.echo("\nThe lab's single site runs against this run's 10-90 % ranges:\n"
                   + lab_versus_run(rows))
        typer.echo("\n" + task6_explanation(rows))
    if picture is not None:
        typer.echo(f"picture: {picture}")


def main() -> None:  # pragma: no cover - convenience entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
