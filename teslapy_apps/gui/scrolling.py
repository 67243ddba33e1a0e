"""A frame whose content scrolls when the window is smaller than it.

Put widgets in :attr:`ScrolledFrame.inner`. Scroll bars appear only while the
content does not fit; the mouse wheel scrolls vertically (with Shift, sideways)
while the pointer is over the frame.
"""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Callable, List, Optional


class ScrolledFrame(tk.Frame):
    """A canvas showing :attr:`inner`, with scroll bars shown as needed; content
    narrower than the frame is stretched to its width.

    ``on_width`` is called with the visible width whenever it changes, so the
    content can rearrange itself to fit before scrolling sideways.
    """

    def __init__(self, parent: tk.Misc, on_width: Optional[Callable[[int], None]] = None,
                 **options) -> None:
        super().__init__(parent, **options)
        self.on_width = on_width
        self.canvas = tk.Canvas(self, highlightthickness=0, borderwidth=0)
        self.vbar = ttk.Scrollbar(self, orient="vertical", command=self.canvas.yview)
        self.hbar = ttk.Scrollbar(self, orient="horizontal", command=self.canvas.xview)
        self.canvas.configure(yscrollcommand=self.vbar.set, xscrollcommand=self.hbar.set)
        self.canvas.grid(row=0, column=0, sticky="nsew")
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)
        self.inner = tk.Frame(self.canvas)
        self._item = self.canvas.create_window(0, 0, window=self.inner, anchor="nw")
        self._width = 0
        self.inner.bind("<Configure>", lambda event: self._update())
        self.bind("<Configure>", lambda event: self._update())
        self.bind("<Enter>", lambda event: self._bind_wheel(True))
        self.bind("<Leave>", lambda event: self._bind_wheel(False))

    def fit_content(self) -> None:
        """Ask for the content's full size (the window's natural size)."""
        self.update_idletasks()
        self.canvas.configure(width=self.inner.winfo_reqwidth(),
                              height=self.inner.winfo_reqheight())

    def _update(self) -> None:
        """Show the scroll bars the content needs at the frame's present size."""
        total_width, total_height = self.winfo_width(), self.winfo_height()
        if total_width <= 1:
            return                          # not mapped yet
        bar_width, bar_height = self.vbar.winfo_reqwidth(), self.hbar.winfo_reqheight()
        width = total_width - (bar_width if self._needs_vertical(total_height) else 0)
        if width != self._width and self.on_width is not None:
            self._width = width
            self.on_width(width)            # may rearrange, changing the content's size
        content_width, content_height = self.inner.winfo_reqwidth(), \
            self.inner.winfo_reqheight()
        vertical = content_height > total_height
        horizontal = content_width > total_width - (bar_width if vertical else 0)
        if horizontal and not vertical:
            vertical = content_height > total_height - bar_height
        self._show(self.vbar, vertical, row=0, column=1, sticky="ns")
        self._show(self.hbar, horizontal, row=1, column=0, sticky="ew")
        # the content is stretched to the visible width when narrower
        visible = total_width - (bar_width if vertical else 0)
        self.canvas.itemconfigure(self._item, width=max(visible, content_width))
        self.canvas.configure(scrollregion=(0, 0, content_width, content_height))

    def _needs_vertical(self, total_height: int) -> bool:
        return self.inner.winfo_reqheight() > total_height

    @staticmethod
    def _show(bar: ttk.Scrollbar, needed: bool, **grid) -> None:
        if needed and not bar.winfo_manager():
            bar.grid(**grid)
        elif not needed and bar.winfo_manager():
            bar.grid_remove()

    def _bind_wheel(self, on: bool) -> None:
        events: List[str] = ["<MouseWheel>", "<Shift-MouseWheel>", "<Button-4>", "<Button-5>",
                             "<Shift-Button-4>", "<Shift-Button-5>"]
        for event in events:
            if on:
                self.bind_all(event, self._wheel)
            else:
                self.unbind_all(event)

    def _wheel(self, event: tk.Event) -> None:
        if event.num in (4, 5):
            steps = -1 if event.num == 4 else 1
        else:
            steps = -1 if event.delta > 0 else 1
        sideways = isinstance(event.state, int) and bool(event.state & 0x0001)  # Shift
        if sideways:
            self.canvas.xview_scroll(steps, "units")
        else:
            self.canvas.yview_scroll(steps, "units")
