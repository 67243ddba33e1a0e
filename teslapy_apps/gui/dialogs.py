"""Every question and message the window shows.

:class:`Dialogs` is the one place the app asks or tells the user something; tests
replace it with a script. Long answers (option codes, nearby chargers, the VIN) go to
a :class:`TableDialog`, a scrolling table that fits the screen.
"""
from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from tkinter import messagebox, simpledialog, ttk
from typing import Any, List, Optional, Sequence

from teslapy_apps.gui.account import SignIn
from teslapy_apps.gui.commands import PIN, Question
from teslapy_apps.gui.svg import render_svg

TABLE_ROWS = 15         # rows a table shows before it scrolls


class Dialogs:
    """Message boxes and dialogs over ``root``."""

    def __init__(self, root: tk.Tk) -> None:
        self.root = root

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

    def login(self, email: str = "") -> Optional[SignIn]:
        """How to sign in, or None when cancelled."""
        return LoginDialog(self.root, email).result

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


class LoginDialog(simpledialog.Dialog):
    """Sign in with an email and password.

    Its answer is a :class:`SignIn`; other ways of signing in (a browser, a refresh
    token) would add their own rows here and their own ``SignIn.method``.
    """

    def __init__(self, parent: tk.Misc, email: str) -> None:
        self.email = email
        self.result: Optional[SignIn] = None
        super().__init__(parent, "Tesla login")

    def body(self, master: tk.Frame) -> tk.Widget:
        tk.Label(master, text="Email:").grid(row=0, column=0, sticky="e")
        tk.Label(master, text="Password:").grid(row=1, column=0, sticky="e")
        self.email_entry = tk.Entry(master, width=32)
        self.email_entry.insert(0, self.email)
        self.password_entry = tk.Entry(master, width=32, show="*")
        self.email_entry.grid(row=0, column=1)
        self.password_entry.grid(row=1, column=1)
        tk.Label(master, text="The password may stay empty when a token is cached.",
                 fg="grey").grid(row=2, column=0, columnspan=2)
        return self.password_entry if self.email else self.email_entry

    def validate(self) -> bool:
        if not self.email_entry.get().strip():
            messagebox.showwarning("Tesla login", "Please enter your email.", parent=self)
            return False
        return True

    def apply(self) -> None:
        self.result = SignIn(self.email_entry.get().strip(), self.password_entry.get())


class ValueDialog(simpledialog.Dialog):
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


class ChoiceDialog(simpledialog.Dialog):
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


class CaptchaDialog(simpledialog.Dialog):
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
