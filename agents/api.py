"""A served model as a :class:`~thinkgym.agents.episodes.Policy`: OpenAI-compatible chat completions.

``thinkgym eval --api-base URL --model NAME`` evaluates a model served by vLLM, SGLang,
llama.cpp, ``transformers serve`` or a hosted API on the same held-out problems, with the same
system prompt and the same report as a local evaluation: :class:`ApiPolicy` is played by the one
episode engine (:func:`~thinkgym.agents.episodes.play`) like a local model, so a multi-turn env
is played turn by turn, each env observation sent as the next user message.

Requests go through the official ``openai`` client (``AsyncOpenAI.chat.completions.create``):

* greedy attempts ask for ``temperature=0``; the K samples for ``temperature``/``top_p`` and a
  ``seed`` derived from the request (servers that ignore ``seed`` sample freshly);
* at most ``concurrency`` requests are in flight; a 429, a 5xx, a timeout or a dropped
  connection is retried up to ``max_retries`` times, waiting ``backoff * 2**attempt`` seconds
  (capped at 60 s, or the server's ``Retry-After`` when it sends one);
* a refused key (401/403), an unknown model or endpoint (404), a request the server rejects
  (400/422) and a server that cannot be reached raise :class:`ApiError`, a one-line
  :class:`~thinkgym.errors.UserError`. :meth:`ApiPolicy.check` sends one short request first,
  so a bad URL, key or model name fails before anything is written;
* every response is appended to a :class:`ResponseCache` (``api_cache.jsonl`` in the output
  directory) under a hash of everything that determines it, so an interrupted evaluation
  resumed with ``--resume`` asks again only for what it lacks.

A response prefix (e.g. ``"<think>\\n"``) is sent as a final assistant message with
``continue_final_message`` (``prefix_mode="continue"``: vLLM and SGLang continue it, as a local
evaluation does); servers that refuse that field (``transformers serve``, most hosted APIs)
need ``prefix_mode="prepend"``: the prefix is put in front of each completion's text but the
model never sees it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thinkgym.agents.episodes import Episode, Reply, check_stop_strings, first_stop
from thinkgym.errors import UserError

CACHE_FILE = "api_cache.jsonl"
PREFIX_MODES = ("continue", "prepend")
MAX_BACKOFF_S = 60.0


class ApiError(UserError):
    """The server could not be used: unreachable, refused the key, the model or the request."""


@dataclass(frozen=True)
class ApiOptions:
    """How to reach the served model."""

    base_url: str
    """The API root, e.g. ``http://127.0.0.1:8000/v1``."""
    model: str
    """The served model's name (``GET /v1/models`` lists them)."""
    api_key_env: str | None = None
    """Environment variable holding the key; None: ``OPENAI_API_KEY`` when set, else a dummy
    key (local servers take any)."""
    concurrency: int = 8
    """Requests in flight at once."""
    timeout: float = 300.0
    """Seconds one request may take before it is retried."""
    max_retries: int = 6
    backoff: float = 1.0
    """First wait before a retry, in seconds; doubled at each further retry."""
    prefix_mode: str = "continue"
    """How a response prefix is sent (see the module docstring)."""

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ApiError(f"--api-base must be an http:// or https:// URL, got {self.base_url!r}")
        if not self.model or self.model == "default":
            raise ApiError("--api-base needs --model NAME: the name the server serves the model under")
        if self.concurrency < 1:
            raise ApiError(f"--concurrency must be >= 1, got {self.concurrency}")
        if self.timeout <= 0:
            raise ApiError(f"--request-timeout must be > 0, got {self.timeout}")
        if self.max_retries < 0:
            raise ApiError(f"--max-retries must be >= 0, got {self.max_retries}")
        if self.prefix_mode not in PREFIX_MODES:
            raise ApiError(f"--prefix-mode must be one of {', '.join(PREFIX_MODES)}, got {self.prefix_mode!r}")

    def api_key(self) -> str:
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise ApiError(f"--api-key-env {self.api_key_env}: that environment variable is not set")
            return key
        return os.environ.get("OPENAI_API_KEY") or "EMPTY"

    def settings(self) -> dict[str, Any]:
        """What ``settings.json`` records (never the key)."""
        return {"api_base": self.base_url, "api_key_env": self.api_key_env, "concurrency": self.concurrency, "request_timeout": self.timeout,
                "max_retries": self.max_retries, "prefix_mode": self.prefix_mode}


class ResponseCache:
    """Responses by request key, kept in a JSONL file (one ``{"key", ...response}`` a line)
    appended and flushed as each arrives; an unreadable last line (a write cut short) is skipped."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = None if path is None else Path(path)
        self.entries: dict[str, dict[str, Any]] = {}
        self._file: Any = None
        if self.path is not None and self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self.entries[entry.pop("key")] = entry
                except (json.JSONDecodeError, KeyError, AttributeError):
                    continue

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def put(self, key: str, entry: dict[str, Any]) -> None:
        self.entries[key] = entry
        if self.path is None:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
            if self._file.tell() and not self.path.read_bytes().endswith(b"\n"):
                self._file.write("\n")  # end a line cut short by an interruption
        self._file.write(json.dumps({"key": key, **entry}) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _detail(err: Any) -> str:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        text = inner.get("message") or inner.get("detail") if isinstance(inner, dict) else inner
        if text:
            return " ".join(str(text).split())[:300]
    return " ".join(str(getattr(err, "message", err)).split())[:300]


class ApiPolicy:
    """A :class:`~thinkgym.agents.episodes.Policy` that asks a served model for each turn.

    ``client`` is an ``openai.AsyncOpenAI`` (or a fake with the same ``chat.completions.create``);
    by default one is built from ``options``. ``usage`` sums, per env id, the requests answered
    (``requests``), those taken from the cache (``cached``) and the server's reported
    ``prompt_tokens`` and ``completion_tokens``. Call :meth:`close` when done.
    """

    def __init__(
        self,
        options: ApiOptions,
        *,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_p: float = 1.0,
        response_prefix: str = "",
        stop_strings: Sequence[str] = (),
        cache: ResponseCache | None = None,
        client: Any = None,
    ) -> None:
        if max_new_tokens < 1:
            raise UserError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        if temperature <= 0:
            raise UserError(f"temperature must be > 0 for the K samples, got {temperature}")
        if not 0 < top_p <= 1:
            raise UserError(f"top_p must be in (0, 1], got {top_p}")
        self.options = options
        self.max_new_tokens = max_new_tokens
        self.temperature, self.top_p = temperature, top_p
        self.response_prefix = response_prefix
        self.stop_strings = check_stop_strings(stop_strings)
        self.cache = cache if cache is not None else ResponseCache(None)
        self.usage: dict[str, dict[str, int]] = defaultdict(lambda: {"requests": 0, "cached": 0, "prompt_tokens": 0, "completion_tokens": 0})
        self._loop = asyncio.new_event_loop()
        self._client = client if client is not None else self._loop.run_until_complete(self._make_client())

    async def _make_client(self) -> Any:
        try:
            from openai import AsyncOpenAI
        except ImportError:
            raise ApiError("--api-base needs the openai client: pip install openai (or thinkgym[api])") from None
        return AsyncOpenAI(base_url=self.options.base_url, api_key=self.options.api_key(), timeout=self.options.timeout, max_retries=0)

    # -- the Policy protocol -------------------------------------------------------------------
    def reply(self, episodes: Sequence[Episode], *, greedy: bool, seed: int) -> list[Reply]:
        """One reply per episode; ``seed`` (the engine's batch seed) is not used: each request's
        seed comes from its own content, so a resumed run sends the same requests."""
        return self._loop.run_until_complete(self._replies(episodes, greedy))

    def observe(self, episode: Episode, reply: Reply, observation: str) -> None:
        pass

    def close(self) -> None:
        self.cache.close()
        close = getattr(self._client, "close", None)
        if close is not None and not self._loop.is_closed():
            result = close()
            if asyncio.iscoroutine(result):
                self._loop.run_until_complete(result)
        if not self._loop.is_closed():
            self._loop.close()

    def check(self, messages: list[dict[str, str]]) -> None:
        """One short request (``max_tokens=1``, no retry on a connection error), so that a bad
        URL, key or model name, or a server that refuses the prefix mode, fails at once."""
        request = self._request(messages, greedy=True, sample=0)
        request["max_tokens"] = 1
        self._loop.run_until_complete(self._create(request, retry_connection=False))

    # -- requests ------------------------------------------------------------------------------
    def _request(self, messages: Sequence[dict[str, str]], *, greedy: bool, sample: int) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.options.model, "messages": list(messages), "max_tokens": self.max_new_tokens}
        if self.response_prefix and self.options.prefix_mode == "continue":
            request["messages"] = [*messages, {"role": "assistant", "content": self.response_prefix}]
            request["extra_body"] = {"continue_final_message": True, "add_generation_prompt": False}
        if greedy:
            request["temperature"] = 0.0
        else:
            request.update(temperature=self.temperature, top_p=self.top_p, seed=sample)
        return request

    def _key(self, request: dict[str, Any], prefix: str) -> str:
        text = json.dumps([request, prefix, self.options.prefix_mode], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    async def _replies(self, episodes: Sequence[Episode], greedy: bool) -> list[Reply]:
        gate = asyncio.Semaphore(self.options.concurrency)

        async def one(episode: Episode) -> Reply:
            request = self._request(episode.messages, greedy=greedy, sample=episode.sample)
            if not greedy:  # the seed: the request's own hash, so that K samples differ and a resume repeats them
                request["seed"] = int(self._key(request, self.response_prefix)[:8], 16)
            key = self._key(request, self.response_prefix)
            usage = self.usage[episode.env_id]
            entry = self.cache.get(key)
            if entry is None:
                async with gate:
                    entry = await self._create(request)
                self.cache.put(key, entry)
            else:
                usage["cached"] += 1
            usage["requests"] += 1
            usage["prompt_tokens"] += entry["prompt_tokens"]
            usage["completion_tokens"] += entry["completion_tokens"]
            text, found = entry["text"], first_stop(entry["text"], self.stop_strings)
            if found is not None:  # cut here, not by the server's `stop`, which drops the stop string itself
                return Reply(self.response_prefix + text[: found[0]], entry["completion_tokens"], stop_string=found[1])
            return Reply(self.response_prefix + text, entry["completion_tokens"], truncated=entry["finish_reason"] == "length")

        tasks = [asyncio.ensure_future(one(e)) for e in episodes]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)  # let finished requests reach the cache
            raise

    async def _create(self, request: dict[str, Any], *, retry_connection: bool = True) -> dict[str, Any]:
        """One chat completion as a cache entry, retried on 429, 5xx, timeouts and dropped connections."""
        import openai

        where = f"{self.options.base_url} (model {self.options.model!r})"
        for attempt in range(self.options.max_retries + 1):
            try:
                response = await self._client.chat.completions.create(**request)
                break
            except openai.APIConnectionError as err:  # also APITimeoutError
                if not retry_connection and not isinstance(err, openai.APITimeoutError):
                    raise ApiError(f"cannot reach {self.options.base_url}: {_detail(err.__cause__ or err)} (is the server running? is --api-base the API root, e.g. http://HOST:PORT/v1?)") from None
                last: Exception = err
                wait = None
            except openai.APIStatusError as err:
                status = err.status_code
                if status in (401, 403):
                    raise ApiError(f"{where} refused the API key ({status}): {_detail(err)}; set it in the variable named by --api-key-env") from None
                if status == 404:
                    raise ApiError(f"{where}: not found (404): {_detail(err)}; check --model against GET {self.options.base_url.rstrip('/')}/models and that --api-base ends with /v1") from None
                if status != 429 and status < 500:
                    hint = ""
                    if "continue_final_message" in _detail(err) or "add_generation_prompt" in _detail(err):
                        hint = "; this server cannot continue a response prefix: pass --prefix-mode prepend"
                    raise ApiError(f"{where} rejected the request ({status}): {_detail(err)}{hint}") from None
                last = err
                wait = _retry_after(err)
            if attempt == self.options.max_retries:
                raise ApiError(f"{where}: gave up after {attempt + 1} attempts: {type(last).__name__}: {_detail(last)} "
                               "(answers so far are kept: run again with --resume)") from None
            delay = wait if wait is not None else self.options.backoff * 2**attempt * (0.75 + 0.5 * random.random())
            await asyncio.sleep(min(MAX_BACKOFF_S, delay))
        choice = response.choices[0]
        usage = getattr(response, "usage", None)
        return {
            "text": choice.message.content or "",
            "finish_reason": choice.finish_reason or "stop",
            "prompt_tokens": int(getattr(usage, "prompt_tokens", 0) or 0),
            "completion_tokens": int(getattr(usage, "completion_tokens", 0) or 0),
        }


def _retry_after(err: Any) -> float | None:
    """The server's ``Retry-After`` in seconds, when it sends a number."""
    try:
        value = err.response.headers.get("retry-after")
        return max(0.0, float(value)) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None
