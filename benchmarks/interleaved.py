"""Timing against a floor in the same run: rounds of interleaved actions, median ratios."""
from __future__ import annotations

import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence


def timed(action: Callable[[], None]) -> float:
    """Seconds ``action`` took."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def interleave(actions: Sequence[Callable[[], None]], rounds: int) -> Dict[str, List[float]]:
    """Time each action once per round, the order rotating between rounds; by name."""
    times: Dict[str, List[float]] = {action.__name__: [] for action in actions}
    for index in range(rounds):
        shift = index % len(actions)
        for action in list(actions[shift:]) + list(actions[:shift]):
            times[action.__name__].append(timed(action))
    return times


def ratio_line(label: str, mine: List[float], floor: List[float], what: str,
               goal: Optional[float] = None) -> str:
    """``label: <median>x <what> (median of n rounds, spread lo-hi; goal <= g)``."""
    ratios = [m / f for m, f in zip(mine, floor)]
    aim = f"; goal <= {goal:g}x" if goal is not None else ""
    return (f"{label}: {statistics.median(ratios):.2f}x {what} (median of {len(ratios)} "
            f"rounds, spread {min(ratios):.2f}-{max(ratios):.2f}{aim})")
