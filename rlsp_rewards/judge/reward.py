"""The LLM-judge exploration reward: an independent LLM grades a response's reasoning effort.

``R_ex = g``, the judge's grade in [0, 1] for the effort a response shows (diversity of
strategies, depth, creativity, persistence and rigor), whatever its correctness; see
:mod:`rlsp_rewards.judge.prompt` for the rubric and :mod:`rlsp_rewards.judge.client` for the
bounds on every call. :class:`~rlsp_rewards.combine.RlspReward` mixes it with the outcome
(``exploration="judge"``).

Pointing it at a judge (any OpenAI-compatible chat-completions server):

* ``vllm serve Qwen/Qwen2.5-7B-Instruct --port 8000``, then ``judge_url="http://HOST:8000/v1"``
  and ``judge_model="Qwen/Qwen2.5-7B-Instruct"`` (or leave the model unset: the first model
  the server lists is used);
* SGLang: ``python -m sglang.launch_server --model-path MODEL --port 30000``, then
  ``judge_url="http://HOST:30000/v1"``;
* a hosted API: ``judge_url="https://api.openai.com/v1"``, ``judge_model="gpt-4o"`` (the
  paper's judge) and the key in ``OPENAI_API_KEY`` (or the variable ``judge_api_key_env``
  names; the key itself is never part of the settings, so it is never pickled or logged);
* a verl-managed judge (``reward.reward_model.enable=True``): verl passes its router address
  as ``reward_router_address`` and the reward calls ``http://{address}/v1/chat/completions``;
  set ``judge_model`` to the ``reward.reward_model.model_path``, or leave it unset.

Proxies come from the environment, as for every HTTP client: an ``https://`` judge is reached
through ``HTTPS_PROXY`` (a ``CONNECT`` tunnel; credentials in its URL are sent as Basic auth),
an ``http://`` judge through ``HTTP_PROXY``, unless ``NO_PROXY`` exempts the host (list your
cluster's judge hosts there when the cluster sets a proxy). TLS certificates are verified
against the system's store (or ``SSL_CERT_FILE``). Redirects are not followed: ``judge_url``
must be the final address.

Unset ``judge_url`` and ``judge_model`` come from the environment of the process that scores
(``RLSP_JUDGE_URL``, then ``OPENAI_BASE_URL``; ``RLSP_JUDGE_MODEL``), read at each call, so a
reward built without them (the ready instance :data:`judge`) works once they are set. A call
with no endpoint at all is a judge failure (``judge_failed=1``), not an exception: scoring
never raises. Failures are logged at WARNING: the first one with its reason, then a count at
most once a minute.

The HTTP client needs the ``judge`` extra (``pip install "rlsp-rewards[judge]"``, which brings
aiohttp). Building a judge never needs it, so importing the package stays light; without it,
every judgement fails (``judge_failed=1``) with that ``pip`` line as the logged reason.

Batches (:meth:`JudgeExploration.grade_batch`, which ``RlspReward.score_batch`` uses) send
their judge calls concurrently from one event loop, bounded by ``judge_max_in_flight``; each
sample's judgement still ends by its own ``judge_budget_s``, so a batch of any size against a
judge that hangs takes about one budget, not one per sample.

Failure: no reply within the budget, an HTTP error, a reply without a valid grade. The grade
is then ``judge_fallback`` (default 0.5, the middle of the scale, so a failed call neither
rewards nor punishes on average) and ``judge_failed`` is 1.0. Failures are not cached.

The problem shown to the judge is the prompt the framework passed (``prompt=``), else
``extra_info[question_key]``; with neither, the judge still grades the response and the
prompt says the problem is not available.

Example:
    >>> reward = JudgeExploration(judge_url="http://127.0.0.1:9/v1", judge_model="m",
    ...                           judge_retries=0, judge_budget_s=2.0)
    >>> out = reward(solution_str="Let me try two ways...", extra_info={"question": "2+2?"})
    >>> out["score"], out["judge_grade"], out["judge_failed"]
    (0.5, 0.5, 1.0)
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from rlsp_rewards.behaviours import behaviour_fields
from rlsp_rewards.core import Reward, RewardConfig, RewardResult, Sample
from rlsp_rewards.errors import JudgeError, require
from rlsp_rewards.judge.prompt import (
    DEFAULT_TEMPLATE,
    TEMPLATES,
    JudgeReplyError,
    load_template,
    parse_reply,
    render_prompt,
)
from rlsp_rewards.lru import LruCache

if TYPE_CHECKING:  # the client (and asyncio) are imported on the first judgement
    import concurrent.futures

    from rlsp_rewards.judge.client import ChatClient

__all__ = ["JudgeBatch", "JudgeConfig", "JudgeExploration", "JudgeGrade", "judge"]

logger = logging.getLogger("rlsp_rewards")

#: Environment variables read, in order, when ``judge_url`` is unset.
URL_ENV_VARS = ("RLSP_JUDGE_URL", "OPENAI_BASE_URL")
#: Environment variable read when ``judge_model`` is unset.
MODEL_ENV_VAR = "RLSP_JUDGE_MODEL"
#: Endpoint clients one reward keeps (one per URL, model and key; normally just one).
_MAX_CLIENTS = 16


class JudgeConfig(RewardConfig):
    """Settings of :class:`JudgeExploration` (and of ``RlspReward`` with the judge, flat).

    Attributes:
        judge_url: base URL of an OpenAI-compatible server, e.g. ``http://127.0.0.1:8000/v1``
            (or a full ``.../chat/completions`` URL); ``None``: ``RLSP_JUDGE_URL``, then
            ``OPENAI_BASE_URL``, at call time. verl's ``reward_router_address`` overrides it.
        judge_model: the model name to request; ``None``: ``RLSP_JUDGE_MODEL``, else the first
            model the server lists.
        judge_api_key_env: the environment variable holding the API key (sent as a bearer
            token when set; local servers need none).
        judge_temperature: sampling temperature of the judge.
        judge_max_tokens: the judge reply's token limit (raise it for a judge that reasons
            in a ``<think>`` block before answering: a cut-off reply is a failure).
        judge_timeout_s: the limit of one HTTP attempt.
        judge_budget_s: the limit of one sample's judgement, retries and queueing included.
        judge_retries: retries after the first attempt (timeouts, connection errors, 429, 5xx).
        judge_max_in_flight: judge requests to one endpoint on the wire at once, per process
            (every thread and event loop of the process shares the bound; a call waiting for a
            slot spends its budget).
        judge_fallback: the grade given when the judge fails, in [0, 1] (0.5: neutral).
        judge_cache_size: identical (problem, response) judgements remembered; 0 turns it off.
        judge_max_chars: characters of problem plus response put in the prompt; longer texts
            lose their middle (the problem gets at most a quarter).
        judge_prompt: a template version name (``"rlsp-effort-v1"``) or a template file path.
        question_key: the ``extra_info`` key holding the problem text.

    Example:
        >>> JudgeConfig(judge_url="http://127.0.0.1:8000/v1").judge_fallback
        0.5
    """

    judge_url: str | None = None
    judge_model: str | None = None
    judge_api_key_env: str = "OPENAI_API_KEY"
    judge_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    judge_max_tokens: int = Field(default=512, ge=1)
    judge_timeout_s: float = Field(default=30.0, gt=0.0, allow_inf_nan=False)
    judge_budget_s: float = Field(default=60.0, gt=0.0, allow_inf_nan=False)
    judge_retries: int = Field(default=3, ge=0, le=20)
    judge_max_in_flight: int = Field(default=64, ge=1)
    judge_fallback: float = Field(default=0.5, ge=0.0, le=1.0)
    judge_cache_size: int = Field(default=4096, ge=0)
    judge_max_chars: int = Field(default=32_000, ge=1_000)
    judge_prompt: str = DEFAULT_TEMPLATE
    question_key: str = "question"

    @field_validator("judge_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(
                f"judge_url must start with http:// or https://, e.g. "
                f"'http://127.0.0.1:8000/v1'; got {value!r}"
            )
        return value

    @field_validator("judge_prompt")
    @classmethod
    def _loadable(cls, value: str) -> str:
        load_template(value)  # raises ValueError naming the known versions
        if value in TEMPLATES:
            return value
        return str(Path(value).expanduser().resolve())  # workers may run in another directory


@dataclasses.dataclass(frozen=True)
class JudgeGrade:
    """One judgement.

    Attributes:
        grade: the judge's grade in [0, 1], or the fallback when it failed.
        failed: True when the judge gave no usable grade.
        reason: the judge's rationale, or why it failed.

    Example:
        >>> JudgeGrade(grade=0.5, failed=True, reason="HTTP 503").failed
        True
    """

    grade: float
    failed: bool
    reason: str


@dataclasses.dataclass(frozen=True)
class _Call:
    """What one judgement needs: where to send it, what to send, and its cache key (empty
    when the cache is off)."""

    client: ChatClient
    messages: list[dict[str, str]]
    key: bytes


class JudgeExploration(Reward):
    """The judge's grade of reasoning effort as a reward: ``score = g`` in [0, 1].

    ``g`` is the judge's grade, or ``judge_fallback`` when the call failed. Use :meth:`grade`
    (sync, from any thread) or :meth:`agrade` (async) for the bare judgement.

    Metric keys: ``score`` and ``judge_grade`` (both ``g``), ``judge_failed`` (1.0 when the
    judge gave no usable grade), ``error`` (1.0 on an unexpected failure), and the behaviour
    counts ``backtracking``, ``verification``, ``alternatives``; the other keys stay 0.

    Example:
        >>> reward = JudgeExploration(judge_url="http://127.0.0.1:9/v1", judge_fallback=0.4,
        ...                           judge_retries=0, judge_budget_s=2.0, judge_model="m")
        >>> g = reward.grade(Sample(response="Wait, let me check."))
        >>> g.grade, g.failed, g.reason.startswith("cannot connect")
        (0.4, True, True)
    """

    config_class = JudgeConfig
    config: JudgeConfig

    def __init__(self, config: JudgeConfig | None = None, **settings: Any) -> None:
        super().__init__(config, **settings)
        self._template = load_template(self.config.judge_prompt)
        self._cache: LruCache[bytes, JudgeGrade] = LruCache(self.config.judge_cache_size)
        self._clients: dict[tuple[str, str | None, str | None], ChatClient] = {}

    # -- the judgement --------------------------------------------------------------------------

    def grade(self, sample: Sample) -> JudgeGrade:
        """Judge one sample; blocks at most about ``judge_budget_s``; never raises.

        Safe from any thread, also one whose own event loop is running.
        """
        try:
            call = self._prepare(sample)
            if isinstance(call, JudgeGrade):
                return call
            return self._finish(call, call.client.complete(call.messages))
        except Exception as exc:
            return self._failed(exc)

    async def agrade(self, sample: Sample) -> JudgeGrade:
        """Async :meth:`grade`: does not block the caller's event loop; never raises."""
        return await self._agrade(sample, None)

    async def _agrade(self, sample: Sample, deadline: float | None) -> JudgeGrade:
        try:
            call = self._prepare(sample)
            if isinstance(call, JudgeGrade):
                return call
            return self._finish(call, await call.client.acomplete(call.messages, deadline))
        except Exception as exc:
            return self._failed(exc)

    def grade_batch(self, samples: Sequence[Sample]) -> list[JudgeGrade]:
        """Judge many samples at once, in order; blocks about ``judge_budget_s`` at most.

        Never raises. See :meth:`start_batch`.

        Example:
            >>> reward = JudgeExploration(judge_url="http://127.0.0.1:9/v1", judge_model="m",
            ...                           judge_retries=0, judge_budget_s=2.0)
            >>> [g.failed for g in reward.grade_batch([Sample(response="a"), Sample(response="b")])]
            [True, True]
        """
        return self.start_batch(samples).result()

    def start_batch(self, samples: Sequence[Sample]) -> JudgeBatch:
        """Start judging ``samples`` and return at once; the batch's ``result()`` collects.

        The calls run concurrently on the process's judge loop (the one sync callers share),
        at most ``judge_max_in_flight`` on the wire; every sample's judgement has its own
        ``judge_budget_s`` from now, waiting for a slot included, whatever the batch size.
        Safe from any thread; the caller is free meanwhile (``RlspReward`` verifies the batch).
        """
        return JudgeBatch(self, list(samples))

    async def _agrade_all(self, samples: list[Sample]) -> list[JudgeGrade]:
        """Every judgement of a batch, at once; all end by the budget from the batch's start
        (preparing thousands of prompts on the loop does not push the last ones' deadlines)."""
        import asyncio

        deadline = asyncio.get_running_loop().time() + self.config.judge_budget_s
        return list(await asyncio.gather(*(self._agrade(s, deadline) for s in samples)))

    def score(self, sample: Sample) -> RewardResult:
        """The reward for one sample (see the class docstring for its keys)."""
        return self.to_result(self.grade(sample), sample)

    async def ascore(self, sample: Sample) -> RewardResult:
        """Async :meth:`score`."""
        return self.to_result(await self.agrade(sample), sample)

    def to_result(self, judged: JudgeGrade, sample: Sample) -> RewardResult:
        """The result dict's fields for one judgement of ``sample``.

        Example:
            >>> r = judge.to_result(JudgeGrade(0.9, False, "varied"), Sample(response="Wait, no."))
            >>> r.score, r.judge_failed, r.backtracking
            (0.9, 0.0, 1.0)
        """
        return RewardResult(
            score=judged.grade,
            judge_grade=judged.grade,
            judge_failed=float(judged.failed),
            **behaviour_fields(sample.response),
        )

    def failure(self, sample: Sample, exc: BaseException) -> RewardResult:
        """An unexpected failure scores like a failed judge call, flagged as an error too."""
        result = super().failure(sample, exc)
        fallback = self.config.judge_fallback
        return dataclasses.replace(result, score=fallback, judge_grade=fallback, judge_failed=1.0)

    # -- steps ----------------------------------------------------------------------------------

    def _prepare(self, sample: Sample) -> _Call | JudgeGrade:
        """The call to make, or the grade already known (cached, or a failure found early)."""
        if "aiohttp" not in sys.modules:
            require("aiohttp", "judge")  # a DependencyError becomes a failure with its pip line
        from rlsp_rewards.judge.client import chat_url

        cfg = self.config
        base = sample.judge_url or cfg.judge_url or _first_env(URL_ENV_VARS)
        if not base:
            return self._failed(
                "no judge endpoint: set judge_url (e.g. http://127.0.0.1:8000/v1) or RLSP_JUDGE_URL"
            )
        url = chat_url(base)
        model = cfg.judge_model or os.environ.get(MODEL_ENV_VAR) or None
        problem = self._problem(sample)
        key = b""
        if cfg.judge_cache_size:
            key = _cache_key(url, model or "", problem or "", sample.response)
            cached = self._cache.get(key)
            if cached is not None:
                return cached
        content = render_prompt(self._template, problem, sample.response, cfg.judge_max_chars)
        client = self._client(url, model, os.environ.get(cfg.judge_api_key_env) or None)
        return _Call(client=client, messages=[{"role": "user", "content": content}], key=key)

    def _client(self, url: str, model: str | None, api_key: str | None) -> ChatClient:
        """The client for one endpoint, built once (it keeps its headers and parsed URL)."""
        client = self._clients.get((url, model, api_key))
        if client is None:
            from rlsp_rewards.judge.client import ChatClient

            cfg = self.config
            if len(self._clients) >= _MAX_CLIENTS:  # endpoints churn only when misconfigured
                self._clients.clear()
            client = self._clients[(url, model, api_key)] = ChatClient(
                url=url,
                model=model,
                api_key=api_key,
                temperature=cfg.judge_temperature,
                max_tokens=cfg.judge_max_tokens,
                timeout_s=cfg.judge_timeout_s,
                budget_s=cfg.judge_budget_s,
                retries=cfg.judge_retries,
                max_in_flight=cfg.judge_max_in_flight,
            )
        return client

    def _problem(self, sample: Sample) -> str | None:
        if sample.prompt:
            return sample.prompt
        info = sample.extra_info or {}
        question = info.get(self.config.question_key)
        return question if isinstance(question, str) and question else None

    def _finish(self, call: _Call, content: str) -> JudgeGrade:
        try:
            reply = parse_reply(content)
        except JudgeReplyError as exc:
            return self._failed(exc)
        judged = JudgeGrade(grade=reply.grade, failed=False, reason=reply.rationale)
        self._cache.put(call.key, judged)
        return judged

    def _failed(self, why: BaseException | str) -> JudgeGrade:
        if isinstance(why, str):
            reason = why
        elif isinstance(why, JudgeError):  # the call's or the reply's: the message says it all
            reason = str(why)
        else:
            reason = f"{type(why).__name__}: {why}"
        _failure_log.record(reason)
        return JudgeGrade(grade=self.config.judge_fallback, failed=True, reason=reason)


class JudgeBatch:
    """The judgements of a batch, under way on the process's judge loop.

    Made by :meth:`JudgeExploration.start_batch`; :meth:`result` waits for them. Whatever
    happens to the loop, :meth:`result` returns within about ``judge_budget_s`` of the start:
    judgements not done by then are failures (the fallback grade).

    Example:
        >>> batch = judge.start_batch([])
        >>> batch.result()
        []
    """

    def __init__(self, reward: JudgeExploration, samples: list[Sample]) -> None:
        self._reward = reward
        self._count = len(samples)
        self._future: concurrent.futures.Future[list[JudgeGrade]] | None = None
        self._problem: BaseException | None = None
        if not samples:
            return
        try:
            if "aiohttp" not in sys.modules:
                require("aiohttp", "judge")
            from rlsp_rewards.judge.client import GRACE_S
            from rlsp_rewards.judge.loops import submit

            self._wait_until = time.monotonic() + reward.config.judge_budget_s + GRACE_S
            self._future = submit(reward._agrade_all(samples))
        except Exception as exc:
            self._problem = exc

    def result(self) -> list[JudgeGrade]:
        """The grades, in the order of the samples; never raises."""
        import concurrent.futures

        if self._future is None:
            if self._problem is None:
                return []
            return [self._reward._failed(self._problem)] * self._count
        try:
            return self._future.result(timeout=max(self._wait_until - time.monotonic(), 0.0))
        except concurrent.futures.TimeoutError:
            self._future.cancel()
            why = f"no reply within the budget of {self._reward.config.judge_budget_s:g}s"
        except Exception as exc:  # cancelled, or an error of the loop itself
            why = f"{type(exc).__name__}: {exc}"
        return [self._reward._failed(why)] * self._count


def _first_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def _cache_key(*parts: str) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode("utf-8", errors="surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.digest()


class _FailureLog:
    """Logs judge failures at WARNING: the first one, then a count at most once a minute."""

    interval_s = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._unlogged = 0
        self._last_log = -float("inf")

    def record(self, reason: str) -> None:
        with self._lock:
            self._unlogged += 1
            now = time.monotonic()
            if now - self._last_log < self.interval_s:
                return
            count, self._unlogged, self._last_log = self._unlogged, 0, now
        logger.warning("judge failed %d time(s) since the last report; latest: %s", count, reason)


_failure_log = _FailureLog()


#: The ready instance: endpoint and model from the environment (see the module docstring).
judge = JudgeExploration()
