"""The InfluxDB HTTP API v1 as a small client: /ping, /write with retries, chunked /query.

Errors follow one rule: no answer, a refused connection or a time-out is ``StoreUnavailable``
(retry later); 429 and 5xx are retried with jittered exponential backoff (Retry-After honoured)
within the caller's deadline, then ``StoreUnavailable``; anything else is the caller's to judge,
and ``refusal`` turns it into ``StoreError`` (retrying will not fix it).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from core.timeseries import StoreError, StoreUnavailable

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRIES = 3


class InfluxHttp:
    """A connection pool to one InfluxDB server; auth by user/password (1.x) or token (2.x+)."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username else None
        self.timeout_s = timeout_s
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def ping(self) -> None:
        response = self._send("GET", "/ping")
        if response.status_code != 204:
            raise StoreUnavailable(f"InfluxDB /ping answered {response.status_code}")

    def write(
        self, body: bytes, params: Mapping[str, str], headers: Mapping[str, str], deadline: float
    ) -> httpx.Response:
        """POST /write, retrying 429/5xx until ``deadline`` (a ``time.monotonic()`` value)."""
        for attempt in range(MAX_RETRIES + 1):
            response = self._send("POST", "/write", params=params, content=body, headers=headers)
            if response.status_code not in RETRY_STATUS:
                return response
            pause = backoff(attempt, response.headers.get("Retry-After"))
            if attempt == MAX_RETRIES or time.monotonic() + pause > deadline:
                break
            time.sleep(pause)
        raise StoreUnavailable(
            f"InfluxDB /write answered {response.status_code}: {error_text(response)}"
        )

    def query(self, database: str, statements: list[str]) -> list[dict[str, Any]]:
        """Run InfluxQL statements; one result per statement, merged across chunks.

        Always POST: InfluxDB 1.x requires it for DDL and it keeps long queries out of the URL.
        """
        params = {"db": database, "epoch": "ns", "chunked": "true", "chunk_size": "20000"}
        data = {"q": ";".join(statements)}
        try:
            with self._http.stream("POST", "/query", params=params, data=data) as response:
                if response.status_code != 200:
                    response.read()
                    raise refusal(response)
                results: dict[int, dict[str, Any]] = {}
                for chunk in _json_lines(response.iter_lines()):
                    if "error" in chunk:
                        raise StoreError(f"InfluxDB query failed: {chunk['error']}")
                    for res in chunk.get("results", []):
                        if "error" in res:
                            raise StoreError(f"InfluxDB query failed: {res['error']}")
                        merged = results.setdefault(res.get("statement_id", 0), {"series": []})
                        merged["series"].extend(res.get("series", []))
        except httpx.TimeoutException as exc:
            raise StoreUnavailable(f"InfluxDB /query: no answer within {self.timeout_s} s") from exc
        except httpx.TransportError as exc:
            raise StoreUnavailable(f"InfluxDB /query: {type(exc).__name__}: {exc}") from exc
        return [results.get(i, {"series": []}) for i in range(len(statements))]

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise StoreUnavailable(f"InfluxDB {path}: no answer within {self.timeout_s} s") from exc
        except httpx.TransportError as exc:
            raise StoreUnavailable(f"InfluxDB {path}: {type(exc).__name__}: {exc}") from exc


def error_text(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", response.text))
    except (ValueError, AttributeError):
        return response.text.strip() or response.reason_phrase


def refusal(response: httpx.Response) -> Exception:
    """The exception an unexpected answer means: unavailable for 429/5xx, an error otherwise."""
    text = error_text(response)
    if response.status_code in RETRY_STATUS:
        return StoreUnavailable(f"InfluxDB answered {response.status_code}: {text}")
    return StoreError(f"InfluxDB answered {response.status_code}: {text}")


def backoff(attempt: int, retry_after: str | None) -> float:
    """Seconds to wait before retry ``attempt``: the server's Retry-After, else jittered 2^n."""
    if retry_after and retry_after.isdigit():
        return float(retry_after)
    return random.uniform(0.5, 1.0) * min(0.1 * 2.0**attempt, 2.0)


def _json_lines(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        if line.strip():
            yield json.loads(line)
