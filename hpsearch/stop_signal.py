"""A stop signal that must not be lost: raised again at the next epoch if it was swallowed.

The CLI's SIGTERM handler raises `Terminated` in the main thread, wherever Python happens to
be. Python runs a handler between bytecodes, so it can fire inside code that drops the
exception: a C extension that checks for signals and clears the error, or a finalizer whose
exceptions Python only reports. Such a stop was seen once in CI: a study exited 143 with no
line, having run on to the end. So the handler also marks the stop as *pending*; the code
that turns it into the user's line (`consume`) clears the mark, and the training loop
(`raise_if_pending`, once per epoch) raises it again if nobody did. A library user who
installs no handler never sets the mark, so the check costs a dict lookup.
"""

from __future__ import annotations

_state: dict[str, bool] = {"pending": False}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises `KeyboardInterrupt` (the main thread)."""


def mark_pending() -> None:
    """A stop signal arrived and is being raised (called by the signal handler)."""
    _state["pending"] = True


def consume() -> bool:
    """The stop has reached the code that reports it. Returns whether one was pending.

    Example:
        >>> consume()
        False
    """
    was, _state["pending"] = _state["pending"], False
    return was


def pending() -> bool:
    """Has a stop signal arrived that nothing has reported yet?"""
    return _state["pending"]


def raise_if_pending() -> None:
    """Raise `Terminated` again if a stop signal arrived and was swallowed on its way.

    Raises:
        Terminated: a stop is pending (it stays pending until `consume`).

    Example:
        >>> raise_if_pending()  # nothing pending: returns
    """
    if _state["pending"]:
        raise Terminated
