"""Every question and message the window shows.

:class:`Dialogs` is the one place the app asks or tells the user something; tests
replace it with a script. Signing in asks with a :class:`LoginDialog` (the email and
the way to sign in) and, for the browser, a :class:`BrowserDialog` (the address to
open, and a field for the address the browser ends on). Long answers (option codes,
nearby chargers, the VIN) go to a :class:`TableDialog`, a scrolling table that fits
the screen.
"""
from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from tkinter import messagebox, simpledialog, ttk
from typing import Any, Callable, Dict, List, Optional, Sequence

from teslapy_apps.gui.account import SignIn
from teslapy_apps.gui.commands import PIN, Question
from teslapy_apps.gui.svg import render_svg
from teslapy_apps.signin import (
    BROWSER, CHROME, PASSWORD, REFRESH_TOKEN, offered_methods, open_in_browser,
)

TABLE_ROWS = 15         # rows a table shows before it scrolls


class Dialogs:
    """Message boxes and dialogs over ``root``.

    open_url: (optional) opens an address in the person's browser; False when it cannot
    """

    def __init__(self, root: tk.Tk,
                 open_url: Callable[[str], Any] = open_in_browser) -> None:
        self.root = root
        self.opener = open_url

    def open_url(self, url: str) -> bool:
        """Open ``url`` in the person's browser; whether one could be opened."""
        return bool(self.opener(url))

    def error(self, title: str, message: str, detail: str = "") -> None:
        """A failure in words, with the technical detail (a code, a status) below it."""
        messagebox.showerror(title, message, detail=detail, parent=self.root)

    def info(self, title: str, message: str) -> None:
        messagebox.showinfo(title, message, parent=self.root)

    def warning(self, title: str, message: str) -> None:
        messagebox.showwarning(title, message, parent=self.root)

    def confirm(self, title: str, message: str) -> bool:
        return bool(messagebox.askyesno(title, message, parent=self.root))

    def ask_value(self, title: str, question: Question) -> Any:
        """A value answering ``question``, or None when cancelled."""
        return ValueDialog(self.root, title, question).result

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]],
              note: str = "") -> None:
        TableDialog(self.root, title, columns, rows, note).wait_window()

    def login(self, email: str = "", demo: bool = False) -> Optional[SignIn]:
        """How to sign in, or None when cancelled (``demo``: the simulator's way first)."""
        return LoginDialog(self.root, email, demo).result

    def browser_sign_in(self, url: str, problem: str = "") -> Optional[str]:
        """The address the browser ended on after signing in at ``url``, or None when
        cancelled; ``problem`` says what was wrong with the last one."""
        return BrowserDialog(self.root, url, problem, self.open_url).result

    def passcode(self) -> str:
        return simpledialog.askstring("Two-factor authentication", "Passcode:",
                                      parent=self.root) or ""

    def factor(self, factors: List[dict]) -> Any:
        names = [f.get("name", "?") for f in factors]
        dialog = ChoiceDialog(self.root, "Two-factor device", "Use which device?", names)
        return "" if dialog.result is None else factors[dialog.result]

    def captcha(self, svg: bytes) -> str:
        return CaptchaDialog(self.root, svg).result or ""

    def password(self) -> str:
        return simpledialog.askstring("Password", "Account password:", show="*",
                                      parent=self.root) or ""


class Dialog(simpledialog.Dialog):
    """A modal dialog that lets go of its widgets and variables when it closes.

    Widgets kept as attributes point back at the dialog: a cycle that only the garbage
    collector frees, possibly on another thread, where Tk must not be called. Dropping
    them when the dialog closes frees them at once, on the Tk thread. The answer
    (``result``) stays.
    """

    def destroy(self) -> None:
        super().destroy()
        for name, value in list(vars(self).items()):
            if isinstance(value, (tk.Widget, tk.Variable)):
                setattr(self, name, None)
            elif isinstance(value, dict) and name != "children" and any(
                    isinstance(item, tk.Widget) for item in value.values()):
                value.clear()


#: What each way of signing in does, said under the choice.
METHOD_NOTES = {
    BROWSER: "The next window shows Tesla's sign-in address to open in your browser; "
             "you paste back the address the browser ends on.",
    CHROME: "A Chrome window opens on Tesla's sign-in page and closes by itself once "
            "you are signed in.",
    REFRESH_TOKEN: "A refresh token from another app that signs in to Tesla.",
    PASSWORD: "Tesla's own sign-in page has needed a browser since 2021: a password "
              "works only where the server still allows it. Empty: the cached token.",
}
DEMO_NOTE = " Demo: leave it empty to import the one the simulator hands out."


class LoginDialog(Dialog):
    """Sign in: the email, the way to sign in, and the token or password it needs.

    Its answer is a :class:`SignIn`. The ways are those this installation offers
    (the Chrome window only with Selenium); in the demo the refresh token comes first
    and may stay empty.
    """

    WRAP = 460              # pixels: the width of the note under the choice

    def __init__(self, parent: tk.Misc, email: str, demo: bool = False) -> None:
        self.email = email
        self.demo = demo
        self.result: Optional[SignIn] = None
        super().__init__(parent, "Tesla login")

    def body(self, master: tk.Frame) -> tk.Widget:
        master.columnconfigure(1, weight=1)
        tk.Label(master, text="Email:").grid(row=0, column=0, sticky="e")
        self.email_entry = tk.Entry(master, width=40)
        self.email_entry.insert(0, self.email)
        self.email_entry.grid(row=0, column=1, sticky="we", pady=(0, 6))
        tk.Label(master, text="Sign in:").grid(row=1, column=0, sticky="ne")
        self.method = tk.StringVar(value=REFRESH_TOKEN if self.demo else BROWSER)
        self.fields: Dict[str, tk.Entry] = {}
        row = 1
        for method, label in offered_methods():
            tk.Radiobutton(master, text=label, variable=self.method, value=method,
                           command=self._method_chosen, anchor="w").grid(
                row=row, column=1, sticky="w")
            row += 1
            if method in (REFRESH_TOKEN, PASSWORD):
                self.fields[method] = tk.Entry(master, width=40, show="*")
                self.fields[method].grid(row=row, column=1, sticky="we", padx=(24, 0))
                row += 1
        self.note = tk.StringVar()
        tk.Label(master, textvariable=self.note, fg="grey", justify="left", anchor="w",
                 wraplength=self.WRAP).grid(row=row, column=0, columnspan=2, sticky="we",
                                       pady=(6, 0))
        self._method_chosen()
        return self.email_entry if not self.email else self.fields.get(
            self.method.get(), self.email_entry)

    def _method_chosen(self) -> None:
        """Enable the chosen way's field only, and say what that way does."""
        method = self.method.get()
        for name, entry in self.fields.items():
            entry.configure(state="normal" if name == method else "disabled")
        self.note.set(METHOD_NOTES[method] + (DEMO_NOTE if self.demo and
                                              method == REFRESH_TOKEN else ""))
        if method in self.fields:
            self.fields[method].focus_set()

    def _field(self, method: str) -> str:
        entry = self.fields.get(method)
        return entry.get() if entry is not None and self.method.get() == method else ""

    def validate(self) -> bool:
        if not self.email_entry.get().strip():
            messagebox.showwarning("Tesla login", "Please enter your email.", parent=self)
            return False
        if (self.method.get() == REFRESH_TOKEN and not self._field(REFRESH_TOKEN).strip()
                and not self.demo):
            messagebox.showwarning("Tesla login", "Please paste the refresh token.",
                                   parent=self)
            return False
        return True

    def apply(self) -> None:
        self.result = SignIn(self.email_entry.get().strip(), self._field(PASSWORD),
                             self.method.get(), self._field(REFRESH_TOKEN).strip())


BROWSER_STEP = ("2. Tesla then sends the browser to an address starting with "
                "tesla://auth/callback?code= that it cannot open (it shows an error or "
                "nothing). Copy that whole address, from the address bar or from the "
                "developer tools (F12, Network tab: the last request's Location), and "
                "paste it here:")


class BrowserDialog(Dialog):
    """Sign in in a browser: Tesla's sign-in address (Copy, Open) and a field for the
    address the browser ends on; an empty field is explained and asked again."""

    WRAP = 680              # pixels: the width of the texts

    def __init__(self, parent: tk.Misc, url: str, problem: str = "",
                 open_url: Callable[[str], bool] = open_in_browser) -> None:
        self.url = url
        self.open_url = open_url
        self.result: Optional[str] = None
        self.problem_text = problem
        super().__init__(parent, "Sign in in your browser")

    def body(self, master: tk.Frame) -> tk.Widget:
        master.columnconfigure(0, weight=1)
        tk.Label(master, text="1. Open Tesla's sign-in page and sign in:", anchor="w").grid(
            row=0, column=0, columnspan=3, sticky="w")
        self.url_entry = tk.Entry(master, width=56)
        self.url_entry.insert(0, self.url)
        self.url_entry.configure(state="readonly")
        self.url_entry.grid(row=1, column=0, sticky="we")
        self.copy_button = ttk.Button(master, text="Copy", command=self.copy)
        self.copy_button.grid(row=1, column=1, padx=(4, 0))
        self.open_button = ttk.Button(master, text="Open", command=self.open)
        self.open_button.grid(row=1, column=2, padx=(4, 0))
        self.said = tk.StringVar()
        tk.Label(master, textvariable=self.said, fg="grey", anchor="w").grid(
            row=2, column=0, columnspan=3, sticky="w")
        tk.Label(master, text=BROWSER_STEP, justify="left", anchor="w",
                 wraplength=self.WRAP).grid(row=3, column=0, columnspan=3, sticky="we",
                                       pady=(6, 2))
        self.callback_entry = tk.Entry(master, width=56)
        self.callback_entry.grid(row=4, column=0, columnspan=3, sticky="we")
        self.problem = tk.StringVar(value=self.problem_text)
        tk.Label(master, textvariable=self.problem, fg="#b00020", justify="left",
                 anchor="w", wraplength=self.WRAP).grid(row=5, column=0, columnspan=3,
                                                   sticky="w")
        return self.callback_entry

    def copy(self) -> None:
        """Put the sign-in address on the clipboard."""
        self.clipboard_clear()
        self.clipboard_append(self.url)
        self.said.set("Copied: paste it into your browser's address bar.")

    def open(self) -> None:
        """Open the sign-in address in the person's browser."""
        if self.open_url(self.url):
            self.said.set("Opened in your browser.")
        else:
            self.said.set("No browser could be opened here: copy the address instead.")

    def validate(self) -> bool:
        if not self.callback_entry.get().strip():
            self.problem.set("Paste the address the browser ended on: it starts with "
                             "tesla://auth/callback?code=")
            return False
        return True

    def apply(self) -> None:
        self.result = self.callback_entry.get().strip()


class ValueDialog(Dialog):
    """Ask one value; a wrong entry is explained under the field and asked again."""

    def __init__(self, parent: tk.Misc, title: str, question: Question) -> None:
        self.question = question
        self.result: Any = None
        super().__init__(parent, title)

    def body(self, master: tk.Frame) -> tk.Widget:
        self.prompt = tk.Label(master, text=self.question.text + ":", anchor="w")
        self.prompt.pack(anchor="w")
        self.entry = tk.Entry(master, width=24, show="*" if self.question.kind == PIN else "")
        self.entry.pack(fill="x")
        self.problem = tk.StringVar(value="")
        tk.Label(master, textvariable=self.problem, fg="#b00020", anchor="w").pack(anchor="w")
        return self.entry

    def validate(self) -> bool:
        try:
            self.result = self.question.parse(self.entry.get())
        except ValueError as error:
            self.problem.set(str(error))
            self.entry.select_range(0, "end")
            return False
        return True


class ChoiceDialog(Dialog):
    """Pick one entry of a list."""

    def __init__(self, parent: tk.Misc, title: str, prompt: str,
                 options: Sequence[str]) -> None:
        self.prompt, self.options = prompt, list(options)
        self.result: Optional[int] = None
        super().__init__(parent, title)

    def body(self, master: tk.Frame) -> tk.Widget:
        tk.Label(master, text=self.prompt).pack(anchor="w")
        self.listbox = tk.Listbox(master, height=min(8, len(self.options)), exportselection=False)
        for option in self.options:
            self.listbox.insert("end", option)
        self.listbox.selection_set(0)
        self.listbox.pack(fill="both")
        return self.listbox

    def apply(self) -> None:
        chosen = self.listbox.curselection()
        self.result = chosen[0] if chosen else None


class CaptchaDialog(Dialog):
    """The captcha image and a field for its characters."""

    def __init__(self, parent: tk.Misc, svg: bytes) -> None:
        self.svg = svg
        self.photo: Any = None
        self.result: Optional[str] = None
        super().__init__(parent, "Captcha")

    def body(self, master: tk.Frame) -> tk.Widget:
        try:
            from PIL import ImageTk
            self.photo = ImageTk.PhotoImage(render_svg(self.svg), master=master)
            tk.Label(master, image=self.photo).pack()
        except Exception as error:          # no Pillow or an unreadable image: say so
            tk.Label(master, text="Cannot show the captcha image: %s" % error).pack()
        tk.Label(master, text="Characters:").pack(anchor="w")
        self.entry = tk.Entry(master)
        self.entry.pack(fill="x")
        return self.entry

    def apply(self) -> None:
        self.result = self.entry.get().strip()

    def destroy(self) -> None:
        self.photo = None                   # free the image on the main thread
        super().destroy()


class TableDialog(tk.Toplevel):
    """Rows under column headings, scrolling past :data:`TABLE_ROWS` rows; modal."""

    def __init__(self, parent: tk.Misc, title: str, columns: Sequence[str],
                 rows: Sequence[Sequence[str]], note: str = "") -> None:
        super().__init__(parent)
        self.withdraw()
        self.title(title)
        self.transient(parent.winfo_toplevel())
        if note:
            tk.Label(self, text=note, anchor="w", justify="left").pack(
                anchor="w", padx=8, pady=(8, 0))
        frame = tk.Frame(self)
        frame.pack(fill="both", expand=True, padx=8, pady=8)
        names = ["c%d" % index for index in range(len(columns))]
        self.tree = ttk.Treeview(frame, columns=names, show="headings", selectmode="browse",
                                 height=max(1, min(len(rows), TABLE_ROWS)))
        font = tkfont.nametofont("TkDefaultFont")
        for index, (name, heading) in enumerate(zip(names, columns)):
            widest = max([font.measure(heading)] + [font.measure(str(row[index]))
                                                    for row in rows])
            self.tree.heading(name, text=heading, anchor="w")
            self.tree.column(name, width=min(widest + 24, 420), anchor="w",
                             stretch=index == len(columns) - 1)
        for row in rows:
            self.tree.insert("", "end", values=[str(cell) for cell in row])
        self.scrollbar = ttk.Scrollbar(frame, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=self.scrollbar.set)
        self.tree.pack(side="left", fill="both", expand=True)
        if len(rows) > TABLE_ROWS:
            self.scrollbar.pack(side="right", fill="y")
        close = ttk.Button(self, text="Close", command=self.destroy, default="active")
        close.pack(pady=(0, 8))
        self.bind("<Escape>", lambda event: self.destroy())
        self.bind("<Return>", lambda event: self.destroy())
        self._place(parent)
        self.deiconify()
        self.wait_visibility()
        self.grab_set()
        self.tree.focus_set()
        children = self.tree.get_children()
        if children:
            self.tree.focus(children[0])

    def _place(self, parent: tk.Misc) -> None:
        """Centre over the parent window, inside the screen."""
        self.update_idletasks()
        width, height = self.winfo_reqwidth(), self.winfo_reqheight()
        x = parent.winfo_rootx() + (parent.winfo_width() - width) // 2
        y = parent.winfo_rooty() + (parent.winfo_height() - height) // 3
        x = max(0, min(x, self.winfo_screenwidth() - width))
        y = max(0, min(y, self.winfo_screenheight() - height))
        self.geometry("+%d+%d" % (x, y))
