"""Bounded reads of an error body that hand the whole body back to the caller.

The hook reads at most a bounded prefix of the raw stream, then replaces the
response's stream with one that yields that prefix again followed by the rest
of the original stream. The caller therefore reads exactly the bytes, and
meets exactly the errors, that it would have without the hook.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx

__all__ = ["BodyPrefix", "read_prefix", "read_prefix_async"]


@dataclass
class BodyPrefix:
    """The start of a raw body: its bytes, and whether they are the whole body."""

    content: bytes
    complete: bool
    failed: bool


class _ReplayStream(httpx.SyncByteStream):
    def __init__(
        self,
        chunks: list[bytes],
        rest: Iterator[bytes] | None,
        error: Exception | None,
        source: httpx.SyncByteStream,
    ) -> None:
        self._chunks = chunks
        self._rest = rest
        self._error = error
        self._source = source

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks
        if self._error is not None:
            raise self._error
        if self._rest is not None:
            yield from self._rest

    def close(self) -> None:
        self._source.close()


class _AsyncReplayStream(httpx.AsyncByteStream):
    def __init__(
        self,
        chunks: list[bytes],
        rest: AsyncIterator[bytes] | None,
        error: Exception | None,
        source: httpx.AsyncByteStream,
    ) -> None:
        self._chunks = chunks
        self._rest = rest
        self._error = error
        self._source = source

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk
        if self._error is not None:
            raise self._error
        if self._rest is not None:
            async for chunk in self._rest:
                yield chunk

    async def aclose(self) -> None:
        await self._source.aclose()


def read_prefix(response: httpx.Response, limit: int) -> BodyPrefix:
    """Read up to `limit` + 1 raw bytes of an unread body and put them back.

    An exception raised by the stream is kept and raised again to the caller
    at the same point of its own read. A BaseException such as
    KeyboardInterrupt propagates at once, after the stream is closed.
    """
    source = response.stream
    assert isinstance(source, httpx.SyncByteStream)
    chunks: list[bytes] = []
    size = 0
    error: Exception | None = None
    iterator = iter(source)
    rest: Iterator[bytes] | None = None
    try:
        for chunk in iterator:
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                rest = iterator
                break
    except Exception as exc:
        error = exc
    except BaseException:
        source.close()
        raise

    response.stream = _ReplayStream(chunks, rest, error, source)
    return BodyPrefix(b"".join(chunks), complete=rest is None, failed=error is not None)


async def read_prefix_async(response: httpx.Response, limit: int) -> BodyPrefix:
    """Read up to `limit` + 1 raw bytes of an unread async body and put them back."""
    source = response.stream
    assert isinstance(source, httpx.AsyncByteStream)
    chunks: list[bytes] = []
    size = 0
    error: Exception | None = None
    iterator = source.__aiter__()
    rest: AsyncIterator[bytes] | None = None
    try:
        async for chunk in iterator:
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                rest = iterator
                break
    except Exception as exc:
        error = exc
    except BaseException:
        await source.aclose()
        raise

    response.stream = _AsyncReplayStream(chunks, rest, error, source)
    return BodyPrefix(b"".join(chunks), complete=rest is None, failed=error is not None)
