"""What the OpenAI stand-in does next: scripted failures, how it composes replies, and every request it saw.

Tests change this from their own thread while the server answers from its thread, so all of it is locked.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from tests.standins.openai_shapes import last_user_text

Endpoint = Literal["chat", "embeddings", "models"]
FaultKind = Literal["hang", "rate_limit", "server_error", "malformed", "break"]
Outcome = Literal["pending", "completed", "disconnected", "broken"]
Responder = Callable[[list[dict[str, Any]]], str]

DEFAULT_REPLY_TEMPLATE = "Stand-in answer to: {prompt}"
DEFAULT_EMBEDDING_DIMENSIONS = 1536


@dataclass
class RecordedRequest:
    """One request as the stand-in received it, and how its answer ended."""

    number: int
    method: str
    path: str
    endpoint: Endpoint | None
    headers: dict[str, str]
    body: Any
    received_at: float = field(default_factory=time.monotonic)
    status: int | None = None
    outcome: Outcome = "pending"
    fault: FaultKind | None = None
    chunks_sent: int = 0
    _ended: threading.Event = field(default_factory=threading.Event, repr=False)

    def _field(self, name: str) -> Any:
        return self.body.get(name) if isinstance(self.body, dict) else None

    @property
    def model(self) -> Any:
        return self._field("model")

    @property
    def messages(self) -> Any:
        return self._field("messages")

    @property
    def temperature(self) -> Any:
        return self._field("temperature")

    @property
    def stream(self) -> bool:
        return self._field("stream") is True

    @property
    def input(self) -> Any:
        return self._field("input")

    @property
    def retry_count(self) -> int | None:
        """The SDK's own retry counter header (x-stainless-retry-count), when sent."""
        value = self.headers.get("x-stainless-retry-count")
        return int(value) if value is not None and value.isdigit() else None

    def end(self, outcome: Outcome) -> None:
        """Mark the answer as finished (the server calls this); the first outcome stands."""
        if not self._ended.is_set():
            self.outcome = outcome
            self._ended.set()

    def wait_ended(self, timeout: float = 5.0) -> bool:
        """Block until the answer is finished (completed, disconnected or broken); False on timeout."""
        return self._ended.wait(timeout)

    async def ended(self, timeout: float = 5.0) -> bool:
        """`wait_ended` for async tests, without blocking their event loop."""
        return await asyncio.to_thread(self._ended.wait, timeout)


@dataclass
class Fault:
    """A scripted failure for the next `remaining` matching requests."""

    kind: FaultKind
    remaining: int = 1
    endpoint: Endpoint | None = None
    when: Callable[[RecordedRequest], bool] | None = None
    seconds: float = 0.0
    retry_after: float | None = None
    status: int = 500
    after_chunks: int = 2

    def applies_to(self, request: RecordedRequest) -> bool:
        if self.endpoint is not None and request.endpoint != self.endpoint:
            return False
        return self.when is None or self.when(request)


class StandInScript:
    """The stand-in's behaviour, changeable at any time; `OpenAIStandIn` serves it."""

    def __init__(
        self,
        *,
        api_key: str,
        models: tuple[str, ...],
        embedding_dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS,
    ) -> None:
        self.api_key = api_key
        self.models = models
        self.embedding_dimensions = embedding_dimensions
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._requests: list[RecordedRequest] = []
        self.responder: Responder | None = None
        self.reply_template = DEFAULT_REPLY_TEMPLATE
        self.delay_seconds = 0.0
        self.chunk_delay_seconds = 0.0

    # --- Replies ------------------------------------------------------------------------------------------

    def respond_with(self, responder: Responder | None) -> None:
        """Answer chat requests with `responder(messages)` (None restores the template)."""
        self.responder = responder

    def reply_to(self, messages: list[dict[str, Any]]) -> str:
        """The assistant text for a chat request."""
        responder = self.responder
        if responder is not None:
            return responder(messages)
        return self.reply_template.format(prompt=last_user_text(messages))

    def set_delay(self, seconds: float, *, per_chunk: float | None = None) -> None:
        """Wait `seconds` before every answer (benchmarks' latency), and `per_chunk` between stream chunks."""
        self.delay_seconds = seconds
        if per_chunk is not None:
            self.chunk_delay_seconds = per_chunk

    # --- Scripted failures --------------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        """Queue a failure; the first queued fault that matches a request is used."""
        if fault.remaining < 1:
            raise ValueError("a scripted failure needs a count of at least 1")
        with self._lock:
            self._faults.append(fault)

    def hang(
        self,
        *,
        seconds: float = 10.0,
        count: int = 1,
        endpoint: Endpoint | None = None,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        """Answer nothing for `seconds` (past the client's timeout); stops early when the client gives up."""
        self.add_fault(Fault("hang", count, endpoint, when, seconds=seconds))

    def rate_limit(
        self,
        *,
        retry_after: float | None = 1.0,
        count: int = 1,
        endpoint: Endpoint | None = None,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        """Answer 429 rate_limit_exceeded, with Retry-After (seconds) and retry-after-ms unless None."""
        self.add_fault(Fault("rate_limit", count, endpoint, when, retry_after=retry_after, status=429))

    def server_error(
        self,
        *,
        status: int = 500,
        count: int = 1,
        retry_after: float | None = None,
        endpoint: Endpoint | None = None,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        """Answer with a 5xx server_error."""
        if status < 500:
            raise ValueError("server_error scripts a 5xx status")
        self.add_fault(Fault("server_error", count, endpoint, when, retry_after=retry_after, status=status))

    def malformed(
        self,
        *,
        count: int = 1,
        endpoint: Endpoint | None = None,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        """Answer 200 with a JSON body (or stream event) cut in the middle."""
        self.add_fault(Fault("malformed", count, endpoint, when))

    def break_stream(
        self,
        *,
        after_chunks: int = 2,
        count: int = 1,
        endpoint: Endpoint | None = None,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        """Drop the connection after `after_chunks` stream events (a plain answer is cut mid-body)."""
        self.add_fault(Fault("break", count, endpoint, when, after_chunks=after_chunks))

    def take_fault(self, request: RecordedRequest) -> Fault | None:
        """Consume one use of the first fault that applies to `request` (the server calls this)."""
        with self._lock:
            for fault in self._faults:
                if fault.applies_to(request):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @property
    def pending_faults(self) -> list[Fault]:
        """Faults not yet used up."""
        with self._lock:
            return list(self._faults)

    # --- Recording ----------------------------------------------------------------------------------------

    def record(
        self, method: str, path: str, endpoint: Endpoint | None, headers: dict[str, str], body: Any
    ) -> RecordedRequest:
        """Keep a request (the server calls this); returns its record."""
        with self._lock:
            request = RecordedRequest(len(self._requests) + 1, method, path, endpoint, headers, body)
            self._requests.append(request)
            return request

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the start or the last reset, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, endpoint: Endpoint) -> list[RecordedRequest]:
        """The recorded requests to one endpoint."""
        return [r for r in self.requests if r.endpoint == endpoint]

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            if not self._requests:
                raise LookupError("the stand-in has received no request")
            return self._requests[-1]

    def reset(self) -> None:
        """Forget requests and faults; restore the default replies, delays and dimensions."""
        with self._lock:
            self._faults.clear()
            self._requests.clear()
        self.responder = None
        self.reply_template = DEFAULT_REPLY_TEMPLATE
        self.delay_seconds = 0.0
        self.chunk_delay_seconds = 0.0
        self.embedding_dimensions = DEFAULT_EMBEDDING_DIMENSIONS
