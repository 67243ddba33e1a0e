"""Names TeslaPy 1.5 scripts import from the package that teslapy itself no longer needs.

:class:`HTMLForm` reads a page's form fields; :class:`PasswdFilter` keeps a password
out of log records. Both are small and kept for scripts written against TeslaPy 1.5.
"""
from __future__ import annotations

import logging
from typing import Any, Dict

from teslapy import auth

MASK = "*" * 8


class HTMLForm(Dict[str, str]):
    """The named ``<input>`` fields of an HTML page, name -> value, in page order.

    ``form`` is the same mapping (the attribute TeslaPy 1.5 scripts read).

    Raises:
        teslapy.ResponseError: the page cannot be read as HTML.
    """

    def __init__(self, html: str) -> None:
        super().__init__(auth.parse_form(html))

    @property
    def form(self) -> Dict[str, str]:
        return self


class PasswdFilter(logging.Filter):
    """A logging filter that writes ``password`` as ``********`` in every record it passes.

    Attach it to a handler or logger of your own; teslapy never logs passwords itself.
    """

    def __init__(self, password: str) -> None:
        super().__init__()
        self.password = password

    def filter(self, record: logging.LogRecord) -> bool:
        if self.password:
            record.msg = self._masked(record.msg)
            if isinstance(record.args, tuple):
                record.args = tuple(self._masked(arg) for arg in record.args)
            elif isinstance(record.args, dict):
                record.args = {key: self._masked(value) for key, value in record.args.items()}
        return True

    def _masked(self, value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(self.password, MASK)
        if isinstance(value, bytes):
            return value.replace(self.password.encode(), MASK.encode())
        return value
