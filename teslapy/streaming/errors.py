"""The errors a stream raises; each is also the ``requests`` exception it stands for.

The tree (``StreamError`` is a :class:`~teslapy.errors.TeslaError`)::

    StreamError
    ├── StreamRefusedError          the websocket upgrade was answered with an HTTP
    │                               status (a requests.HTTPError, .response.status_code)
    ├── StreamConnectionError       could not connect: refused, DNS, proxy, reset
    │   │                           (a requests.ConnectionError)
    │   ├── StreamSSLError          TLS failed: certificate, host name, CA bundle
    │   │                           (a requests.exceptions.SSLError)
    │   ├── StreamConnectTimeout    not connected within connect_timeout
    │   │                           (a requests.ConnectTimeout)
    │   └── StreamInterruptedError  the connection broke before Tesla ended the stream
    │       │                       (reset, closed, protocol error)
    │       └── StreamStalledError  no message or no pong in time (a requests.ReadTimeout)
    ├── StreamFrameError            a message that is not UTF-8 JSON of an object, or too
    │                               large or deep (a teslapy.ResponseError)
    └── StreamSubscriptionError     Tesla refused the subscription (``client_error``)
"""
from __future__ import annotations

from typing import Any

import requests

from teslapy.errors import ResponseError, TeslaError


class StreamError(TeslaError):
    """The stream could not be opened, broke, or Tesla refused it."""


class StreamRefusedError(StreamError, requests.HTTPError):
    """The streaming server answered the websocket upgrade with an HTTP status.

    ``response`` is a :class:`requests.Response` with the status, headers and body.
    """


class StreamConnectionError(StreamError, requests.ConnectionError):
    """The streaming server could not be reached, or the connection failed."""


class StreamSSLError(StreamConnectionError, requests.exceptions.SSLError):
    """TLS with the streaming server failed (certificate, host name or CA bundle)."""


class StreamConnectTimeout(StreamConnectionError, requests.ConnectTimeout):
    """The connection was not open within ``connect_timeout`` seconds."""


class StreamInterruptedError(StreamConnectionError):
    """The connection broke before Tesla ended the stream."""


class StreamStalledError(StreamInterruptedError, requests.ReadTimeout):
    """Nothing arrived in time: no message while subscribed, or no pong after a ping."""


class StreamFrameError(StreamError, ResponseError):
    """A streamed message is not UTF-8 JSON of an object, or is too large or too deep."""


class StreamSubscriptionError(StreamError):
    """Tesla refused the subscription (``client_error``).

    ``error_type`` and ``value`` are the fields of Tesla's ``data:error`` message.
    """

    def __init__(self, message: str, error_type: Any = None, value: Any = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.value = value
