"""The HTTP reward server: OpenRLHF's ``/get_reward`` protocol and a batch JSON API.

Routes:
    * ``POST /get_reward``: OpenRLHF's protocol, body ``{"query": [...], "prompts": [...],
      "labels": [...]}``, answer ``{"rewards": [...], "scores": [...], "extra_logs": {k: [...]}}``.
      Point ``--reward.remote_url http://host:port/get_reward`` at it (a comma-separated list
      of several servers is used round-robin); plain ASGI, not a FastAPI route, for speed
      (:mod:`~rlsp_rewards.integrations.openrlhf.get_reward`). OpenRLHF sends one sample per
      request, so a server whose reward is a group shape (``exploration`` ``kimi``,
      ``shorter_better``) answers 422 here, saying why.
    * ``POST /v1/score``: our batch API (:class:`ScoreRequest` -> :class:`ScoreResponse`), one
      result with the fixed keys per sample; schemas on the ``/docs`` page. A group shape (at
      start, or per request: ``"settings": {"exploration": "kimi"}``) scores each request's
      samples by group: ``extra_info.prompt_id``, else ``prompt``.
    * ``GET /health`` and ``GET /metrics`` (Prometheus).

Scoring never runs on the event loop: ``/get_reward`` awaits the reward's async path and
``/v1/score`` runs the batch path in a thread; math verification happens in the killable
worker processes; each ``/get_reward`` request is answered as soon as its own samples are
done. A gate in front of the app answers before any work is done: 401 without the token
(bearer, or the password of HTTP basic auth, which OpenRLHF's client sends when the URL is
``http://user:TOKEN@host/get_reward``), 413 as soon as the body passes ``max_body_bytes``
(counted while reading), 408 when the body takes longer than ``body_timeout_s``, and 503 with
``Retry-After`` when ``max_in_flight`` scoring requests are already admitted (a request is
admitted once its body has arrived). ``/health`` shows only the status, and the version and
the reward being served to a request with the token. A ``/v1/score`` request holds at most
``max_samples`` samples, and its settings may tighten the server's limits, never loosen them.

Example:
    >>> from rlsp_rewards.exploration.length import LengthExploration
    >>> app = create_app(LengthExploration())
    >>> sorted(app.openapi()["paths"])
    ['/get_reward', '/health', '/metrics', '/v1/score']
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.routing import Route

from rlsp_rewards.core import NUMERIC_KEYS, Reward, Sample
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.integrations.openrlhf.batcher import MicroBatcher
from rlsp_rewards.integrations.openrlhf.gate import Gate, authorized
from rlsp_rewards.integrations.openrlhf.get_reward import (
    PATH,
    GetReward,
    OpenRLHFRequest,
    OpenRLHFResponse,
    document,
    problems,
)
from rlsp_rewards.integrations.openrlhf.metrics import ServerMetrics

__all__ = [
    "CAPPED_SETTINGS",
    "MAX_SCORING_THREADS",
    "SERVER_SIDE_SETTINGS",
    "TOKEN_ENV",
    "OpenRLHFRequest",
    "OpenRLHFResponse",
    "SampleResult",
    "ScoreRequest",
    "ScoreResponse",
    "ScoreSample",
    "create_app",
    "serve",
]

logger = logging.getLogger("rlsp_rewards.integrations.openrlhf.server")

#: The default number of ``/get_reward`` scoring threads is the CPUs, at most this: past it the
#: threads mostly wait for the GIL (``--processes`` is the way to more cores).
MAX_SCORING_THREADS = 4
#: The environment variable read for the bearer token when ``token`` is not given.
TOKEN_ENV = "RLSP_SERVER_TOKEN"
#: Settings a ``/v1/score`` request may not change: where the judge is and which environment
#: variable holds its key (else a client could have the server send any of its secrets to a
#: URL of its choosing), the worker processes (a new pool per value, never closed), and paths
#: on the server's disk (a tokenizer, a judge prompt template: a client could learn which files
#: exist and have one's text sent to the judge). They are set when the server starts.
SERVER_SIDE_SETTINGS = frozenset(
    {"judge_url", "judge_api_key_env", "judge_prompt", "tokenizer", "workers", "worker_memory_mb"}
)
#: Limits a ``/v1/score`` request may lower but not raise above the server's own: budgets,
#: retries, concurrency, the text read per sample and cache sizes.
CAPPED_SETTINGS = (
    "timeout_s",
    "judge_timeout_s",
    "judge_budget_s",
    "judge_retries",
    "judge_max_in_flight",
    "max_response_chars",
    "judge_max_chars",
    "cache_size",
    "judge_cache_size",
)


# -- schemas --------------------------------------------------------------------------------------


class ScoreSample(BaseModel):
    """One sample for ``/v1/score``.

    Example:
        >>> ScoreSample(response="\\\\boxed{4}", gold="4", response_tokens=120).data_source
        ''
    """

    model_config = ConfigDict(extra="forbid")

    response: str = Field(description="the model's response only (no prompt)")
    gold: Any = Field(None, description="the reference answer or worked solution")
    prompt: str | None = Field(
        None, description="the problem: shown to the judge; groups the responses of a group shape"
    )
    response_tokens: int | None = Field(None, ge=0, description="exact response token count")
    data_source: str = ""
    extra_info: dict[str, Any] | None = Field(
        None,
        description="the dataset row's extra fields: prompt_id (the group of a group shape, "
        "before the prompt text), target_tokens (the L1 shapes' target length)",
    )


class ScoreRequest(BaseModel):
    """The ``/v1/score`` request: samples and optional per-request reward settings.

    Example:
        >>> request = ScoreRequest(samples=[{"response": "x"}], settings={"preset": "guarded"})
        >>> request.samples[0].gold is None
        True
    """

    model_config = ConfigDict(extra="forbid")

    samples: list[ScoreSample]
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description='reward settings for this request, e.g. {"preset": "guarded"}; not '
        "judge_url, judge_api_key_env, judge_prompt, tokenizer, workers, worker_memory_mb (set "
        "at start); budgets and limits (timeout_s, judge_budget_s...) at most the server's",
    )


#: One result with the fixed keys (:data:`~rlsp_rewards.core.RESULT_KEYS`).
_RESULT_FIELDS: dict[str, Any] = {key: (float, ...) for key in NUMERIC_KEYS}
SampleResult = create_model(  # built from the key list so the schema cannot drift from it
    "SampleResult",
    __config__=ConfigDict(extra="forbid"),
    **_RESULT_FIELDS,
    pred=(str, ""),
)


class ScoreResponse(BaseModel):
    """The ``/v1/score`` response: one :data:`SampleResult` per sample, in order.

    Example:
        >>> from rlsp_rewards.core import RewardResult
        >>> ScoreResponse(results=[RewardResult(acc=1.0).to_dict()]).results[0].acc
        1.0
    """

    results: list[SampleResult]  # type: ignore[valid-type]


# -- the app --------------------------------------------------------------------------------------


def create_app(
    reward: Reward | None = None,
    *,
    adapter_settings: Any = None,
    token: str | None = None,
    max_body_bytes: int = 8 * 1024 * 1024,
    max_in_flight: int = 4096,
    retry_after_s: int = 1,
    batch_window_s: float = 0.005,
    max_batch: int = 256,
    scoring_threads: int | None = None,
    body_timeout_s: float = 30.0,
    max_samples: int = 10_000,
) -> FastAPI:
    """The reward server's ASGI app.

    Args:
        reward: the reward to serve; the ``paper`` preset of RlspReward when ``None``.
        adapter_settings: an :class:`~rlsp_rewards.integrations.openrlhf.AdapterSettings`
            (label key, evaluation mode) for ``/get_reward``.
        token: require ``Authorization: Bearer <token>`` (or basic auth with it as the
            password) on the scoring routes; ``None`` reads ``RLSP_SERVER_TOKEN``, ``""`` = off.
        max_body_bytes: larger request bodies get 413.
        max_in_flight: scoring requests admitted at once; more get 503 + ``Retry-After``.
        retry_after_s: the ``Retry-After`` value, seconds.
        batch_window_s: ``/get_reward`` samples arriving within this window are handed
            together to the scoring threads, where each sample runs the reward's async path and
            each request is answered when its own samples are done; 0 scores each request on
            the server's own event loop instead.
        max_batch: a window closes early once it holds this many samples.
        scoring_threads: threads the windows' requests are dealt out to (the compiled scans of
            long responses run on them without the GIL); ``None``: the CPUs, at most
            :data:`MAX_SCORING_THREADS`.
        body_timeout_s: a request body must arrive within this time, else 408.
        max_samples: the most samples one ``/v1/score`` request may hold (413 above: the reply
            grows with it; split larger batches).

    Raises:
        ConfigError: when a limit is not positive.

    Example:
        >>> from rlsp_rewards.exploration.length import LengthExploration
        >>> create_app(LengthExploration(), max_in_flight=8).title
        'rlsp-rewards'
    """
    from rlsp_rewards import __version__
    from rlsp_rewards.integrations.openrlhf.adapter import OpenRLHFReward

    for name, value in (
        ("max_body_bytes", max_body_bytes),
        ("max_in_flight", max_in_flight),
        ("max_batch", max_batch),
        ("max_samples", max_samples),
        ("body_timeout_s", body_timeout_s),
    ):
        if not value > 0:
            raise ConfigError(f"{name} must be > 0, got {value}")
    if scoring_threads is None:
        from rlsp_rewards.workers import available_cpus

        scoring_threads = min(available_cpus(), MAX_SCORING_THREADS)
    if not scoring_threads >= 1:
        raise ConfigError(f"scoring_threads must be at least 1, got {scoring_threads}")
    if not 0 <= batch_window_s <= 1:
        raise ConfigError(f"batch_window_s must be in [0, 1] seconds, got {batch_window_s}")
    adapter = OpenRLHFReward(reward, adapter_settings)
    group_only = adapter.reward.per_sample_problem()  # a group shape: /v1/score only
    if group_only is not None:
        logger.warning("/get_reward will answer 422: %s", group_only)
    batcher = None
    if batch_window_s:
        batcher = MicroBatcher(adapter.reward, batch_window_s, max_batch, scoring_threads)
    metrics = ServerMetrics(getattr(adapter.reward, "cache_stats", None))
    if token is None:
        token = os.environ.get(TOKEN_ENV, "")

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        warm_up = getattr(adapter.reward, "warm_up", None)
        if callable(warm_up):  # start the worker processes before the first request, not in it
            try:
                await asyncio.to_thread(warm_up)
            except Exception as exc:  # a cold first request is better than no server
                logger.warning("warm-up failed: %s: %s", type(exc).__name__, exc)
        yield
        if batcher is not None:
            batcher.close()

    app = FastAPI(
        title="rlsp-rewards",
        version=__version__,
        description="RLSP rewards over HTTP: OpenRLHF's /get_reward and a batch API.",
        lifespan=lifespan,
    )
    app.state.adapter = adapter
    app.state.metrics = metrics
    app.state.scoring_threads = scoring_threads
    app.add_exception_handler(RequestValidationError, _invalid_request)

    # OpenRLHF's route, one request per sample: plain ASGI (see get_reward.py), documented;
    # the gate answers its POSTs itself, past the app's middleware and router
    get_reward = GetReward(adapter, metrics, batcher, group_only)
    app.router.routes.insert(0, Route(PATH, get_reward, methods=["POST"]))
    documented = app.openapi
    app.openapi = lambda: document(documented())  # type: ignore[method-assign]

    @app.post("/v1/score", response_model=ScoreResponse)
    async def score(body: ScoreRequest) -> Response:
        """Score a batch of samples; one result with the fixed keys per sample."""
        if len(body.samples) > max_samples:
            raise HTTPException(
                status_code=413,
                detail=f"{len(body.samples)} samples: this server takes at most {max_samples} "
                "per request; split the batch",
            )
        fixed = sorted(SERVER_SIDE_SETTINGS.intersection(body.settings))
        if fixed:
            raise HTTPException(
                status_code=422,
                detail=f"{', '.join(fixed)}: set when the server starts (rlsp-rewards serve "
                "--config), not per request",
            )
        _check_caps(body.settings, adapter.reward.config)
        try:
            scorer = adapter.reward.with_settings(**body.settings)
        except ConfigError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        samples = [Sample(**item.model_dump()) for item in body.samples]
        results = await asyncio.to_thread(scorer.score_batch, samples)
        metrics.observe_results(results)
        content = await asyncio.to_thread(_results_json, results)
        return Response(content=content, media_type="application/json")

    @app.get("/health")
    async def health(request: Request) -> dict[str, Any]:
        """Liveness: ``{"status": "ok"}``; with the token also the version and the reward."""
        shown: dict[str, Any] = {"status": "ok"}
        if token and authorized(request.headers.get("authorization", ""), token):
            shown.update(version=__version__, reward=repr(adapter.reward))
        return shown

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        """Prometheus exposition of requests, latency, outcome statuses and worker pools."""
        body, content_type = metrics.render()
        return Response(content=body, media_type=content_type)

    app.add_middleware(
        Gate,
        metrics=metrics,
        token=token,
        max_body_bytes=max_body_bytes,
        max_in_flight=max_in_flight,
        retry_after_s=retry_after_s,
        body_timeout_s=body_timeout_s,
        direct={PATH: get_reward.respond},
    )
    return app


def _check_caps(settings: Mapping[str, Any], server: Any) -> None:
    """422 when a request's settings raise one of the server's limits (:data:`CAPPED_SETTINGS`).

    A request may ask for less time, fewer retries, less text; never for more than the server
    was started with (a client could otherwise hold every worker for 600 s per sample).
    """
    for name in CAPPED_SETTINGS:
        if name not in settings or not hasattr(server, name):
            continue
        limit, asked = getattr(server, name), settings[name]
        if isinstance(asked, bool) or not isinstance(asked, (int, float)):
            continue  # not a number: the reward's own validation says what is wrong
        if limit is not None and asked > limit:
            raise HTTPException(
                status_code=422,
                detail=f"{name}={asked}: over this server's limit of {limit} (set when it "
                f"starts); ask for at most {limit}",
            )


def _results_json(results: list[Any]) -> bytes:
    """The ``/v1/score`` reply body, encoded directly (validating each result again doubled
    the time of large replies)."""
    return json.dumps(
        {"results": [_encodable(r.to_dict()) for r in results]}, ensure_ascii=False
    ).encode("utf-8", errors="surrogatepass")


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """422 with one readable line per problem; never echoes the (possibly binary) input."""
    lines = problems(getattr(exc, "errors", list)())
    return JSONResponse(status_code=422, content={"detail": lines or ["invalid request"]})


#: Lone surrogates (a JSON escape such as "\\ud800" in a request) cannot be encoded as UTF-8.
_SURROGATES = re.compile("[\ud800-\udfff]")


def _encodable(row: dict[str, Any]) -> dict[str, Any]:
    """A result dict whose ``pred`` can be sent as UTF-8 (lone surrogates become U+FFFD)."""
    pred = row.get("pred")
    if isinstance(pred, str) and not pred.isascii():
        row["pred"] = _SURROGATES.sub("\ufffd", pred)
    return row


# -- running it -----------------------------------------------------------------------------------


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: Mapping[str, Any] | None = None,
    token: str | None = None,
    max_body_bytes: int = 8 * 1024 * 1024,
    max_in_flight: int = 4096,
    batch_window_s: float = 0.005,
    scoring_threads: int | None = None,
    body_timeout_s: float = 30.0,
    max_samples: int = 10_000,
    log_level: str = "info",
    access_log: bool = False,
    graceful_timeout_s: int = 30,
) -> None:
    """Build the reward from flat settings and serve it with uvicorn until SIGINT/SIGTERM.

    On shutdown uvicorn stops accepting connections and lets admitted requests finish (up to
    ``graceful_timeout_s``).

    Args:
        host: interface to bind (``0.0.0.0`` for every interface).
        port: TCP port.
        settings: flat settings as in ``RLSP_REWARD_CONFIG``: RlspReward's (``preset``,
            ``alpha``, ``C``, ``workers``...) plus ``label_key`` and ``eval_mode``.
        token, max_body_bytes, max_in_flight, batch_window_s, scoring_threads, body_timeout_s,
            max_samples: see :func:`create_app`.
        log_level: uvicorn's log level.
        access_log: log every request (off by default: training sends thousands per step).
        graceful_timeout_s: how long shutdown waits for requests in flight.

    Raises:
        ConfigError: for invalid settings, before the port is bound.

    Example:
        >>> serve(settings={"alpah": 0.8})  # a typo fails at once, naming the setting
        Traceback (most recent call last):
        ...
        rlsp_rewards.errors.ConfigError: invalid RlspConfig: unknown setting 'alpah' ...
    """
    import uvicorn

    from rlsp_rewards.integrations.openrlhf.adapter import OpenRLHFReward

    adapter = OpenRLHFReward.from_settings(settings or {})
    app = create_app(
        adapter.reward,
        adapter_settings=adapter.settings,
        token=token,
        max_body_bytes=max_body_bytes,
        max_in_flight=max_in_flight,
        batch_window_s=batch_window_s,
        scoring_threads=scoring_threads,
        body_timeout_s=body_timeout_s,
        max_samples=max_samples,
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=graceful_timeout_s,
    )
