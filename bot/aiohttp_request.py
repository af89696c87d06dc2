"""python-telegram-bot's requests to Telegram over aiohttp instead of httpx.

Every answer, edit and message is one request: measured beside each other, a request through
httpx (with httpcore, anyio and h11, all pure Python) cost about 1.1 ms of CPU, through aiohttp
(its HTTP parser in C, already Relais' web server) about 0.4 ms; a quarter of the bot's loop went
to the HTTP client at 50 updates a second (bench/RESULTS.md). Only the transport changes:
python-telegram-bot still builds the parameters and reads Telegram's answer (its errors, flood
control, migrations), from the status and body returned here.

Timeouts keep python-telegram-bot's meaning as far as aiohttp has them: the connection (from the
pool, then to Telegram), the wait for the answer, and a bound on the whole request (the sum of
the parts, since aiohttp has no write timeout of its own). What httpx took from the environment
is taken too: a proxy (HTTPS_PROXY, NO_PROXY: a department's network may require one), and the
certificates to trust (SSL_CERT_FILE or SSL_CERT_DIR, otherwise certifi's, not only the system's).
"""

from __future__ import annotations

import os
import ssl
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput, UploadFileDict
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """A pool of at most `connection_pool_size` connections to Telegram, with
    python-telegram-bot's default timeouts (HTTPXRequest's)."""

    def __init__(
        self,
        connection_pool_size: int = 1,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read, self._write, self._media_write = read_timeout, write_timeout, media_write_timeout
        self._connect, self._pool = connect_timeout, pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}  # (scheme, host) -> the proxy, read once

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=trusted_certificates()),
                headers={"User-Agent": self.USER_AGENT},
                # Not aiohttp's trust_env: it reads ~/.netrc in a thread at every request (a fifth
                # of the CPU of an update); the proxy is read from the environment once per host.
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data is not None else None
        read = _given(read_timeout, self._read)
        write = _given(write_timeout, self._media_write if files else self._write)
        connect = _given(connect_timeout, self._connect)
        pool = _given(pool_timeout, self._pool)
        timeout = aiohttp.ClientTimeout(
            total=_bound(pool, connect, write, read),
            connect=_bound(pool, connect),  # aiohttp's: a connection from the pool, opened if need be
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data, files), timeout=timeout, proxy=self._proxy_for(url)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:  # the class name says what happened when the message is empty
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc

    def _proxy_for(self, url: str) -> str | None:
        """The proxy the environment names for this URL's scheme (HTTPS_PROXY, ALL_PROXY), unless
        NO_PROXY excludes its host: what httpx did."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxies = urllib.request.getproxies()
            proxy = proxies.get(parts.scheme) or proxies.get("all")
            self._proxies[key] = None if proxy and urllib.request.proxy_bypass(key[1]) else proxy
        return self._proxies[key]


def trusted_certificates() -> ssl.SSLContext:
    """httpx's choice: the file or folder the environment names, otherwise certifi's bundle."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    return ssl.create_default_context(cafile=certifi.where())


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _bound(*parts: float | None) -> float | None:
    """The parts' sum; no bound if one of them has none."""
    return None if any(part is None for part in parts) else sum(part for part in parts if part is not None)


def _body(request_data: RequestData | None, files: UploadFileDict | None) -> Any:
    """A form, as python-telegram-bot sends it: urlencoded, or multipart when there are files (the
    request's `multipart_data`, read once by the caller: it walks every parameter)."""
    if request_data is None:
        return None
    if not files:
        return request_data.json_parameters or None
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
