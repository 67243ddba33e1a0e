"""The worker thread: library calls run one at a time off the Tk thread.

Results come back to the Tk main loop through a queue that the loop polls with
``after``, so the window never waits on the network. Every call belongs to a
generation; :meth:`Worker.reset` starts a new one when the account or the car
changes, so calls queued for the previous car never run and results of the one
running are dropped.
"""
from __future__ import annotations

import contextlib
import logging
import queue
import sys
import threading
import tkinter as tk
from typing import Any, Callable, Optional

logger = logging.getLogger(__name__)

#: How often the main loop looks for results (a look costs microseconds; a result waits
#: for it, so a command's answer shows this much later at most).
POLL_MS = 10


class Worker:
    """Runs library calls one at a time on a background thread.

    ``submit`` queues a call; its result or error is handed to a callback on the Tk
    main loop. ``ask_main`` lets the worker ask the main loop something (a login
    dialog) and wait for the answer.
    """

    def __init__(self, root: tk.Tk, poll_ms: int = POLL_MS) -> None:
        self.root = root
        self.poll_ms = poll_ms
        self.generation = 0
        self.pending = 0
        self.jobs: "queue.Queue[Optional[tuple]]" = queue.Queue()
        self.results: "queue.Queue[tuple]" = queue.Queue()
        self.thread = threading.Thread(target=self._work, name="teslapy-gui-worker",
                                       daemon=True)
        self.thread.start()
        self._poll_id = root.after(poll_ms, self._poll)

    @property
    def idle(self) -> bool:
        """True when no submitted call is waiting, running or unreported."""
        return self.pending == 0

    def submit(self, func: Callable[[], Any], on_done: Optional[Callable[[Any], None]] = None,
               on_error: Optional[Callable[[BaseException], None]] = None,
               keep: bool = False) -> None:
        """Queue ``func`` in the current generation; ``on_done(result)`` or
        ``on_error(error)`` runs on the main loop unless the generation has ended.

        keep: (optional) run ``func`` even when the generation ends before its turn
        (for calls that must happen, such as forgetting an account's tokens)
        """
        self.pending += 1
        self.jobs.put((self.generation, func, on_done, on_error, keep))

    def reset(self) -> None:
        """End the current generation: its queued calls are skipped, its results dropped."""
        self.generation += 1

    def ask_main(self, func: Callable[[], Any]) -> Any:
        """From the worker: run ``func`` on the main loop and return its result."""
        done = threading.Event()
        box: list = []
        self.results.put(("ask", func, done, box))
        done.wait()
        return box[0]

    def stop(self) -> None:
        """Let the thread end after the call it runs; stop polling."""
        self.jobs.put(None)
        with contextlib.suppress(tk.TclError):
            self.root.after_cancel(self._poll_id)

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            generation, func, on_done, on_error, keep = job
            if generation != self.generation and not keep:
                logger.debug("Skipping a call queued for a previous account or car")
                self.results.put(("done", generation, None, None, None))
                continue
            try:
                self.results.put(("done", generation, on_done, func(), None))
            except BaseException as error:      # every error goes back to the main loop
                self.results.put(("done", generation, on_error, None, error))

    def _poll(self) -> None:
        try:
            while True:
                try:
                    item = self.results.get_nowait()
                except queue.Empty:
                    break
                if item[0] == "ask":
                    self._answer(*item[1:])
                else:
                    self._report(*item[1:])
        finally:
            self._poll_id = self.root.after(self.poll_ms, self._poll)

    @staticmethod
    def _answer(func: Callable[[], Any], done: threading.Event, box: list) -> None:
        try:
            box.append(func())
        except Exception:
            logger.exception("Dialog failed")
            box.append(None)
        done.set()

    def _report(self, generation: int, callback: Optional[Callable[[Any], None]],
                result: Any, error: Optional[BaseException]) -> None:
        self.pending -= 1
        if callback is None or generation != self.generation:
            return
        try:
            callback(error if error is not None else result)
        except Exception:                       # a failing callback must not stop polling
            self.root.report_callback_exception(*sys.exc_info())
