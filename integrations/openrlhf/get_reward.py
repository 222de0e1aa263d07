"""``POST /get_reward``, OpenRLHF's protocol, as a plain ASGI endpoint.

OpenRLHF sends one sample per request, thousands per step, so this route's own cost per request
bounds the server. As a FastAPI route (the body parsed and validated by FastAPI's dependency
machinery, the answer validated against its response model) it took a third of the server's CPU
on short responses; here it reads the body, validates it with the same pydantic model and writes
the JSON itself. Measured on this repository's 2-core machine (2026-12-03), one ``serve``
process, the ``paper`` preset, 64 POSTs in flight from aiohttp, two runs each:

========================================  ====================  ==================
                                          FastAPI route         this endpoint
========================================  ====================  ==================
1 KB responses: requests/s                1,507-1,897           2,099-2,642
1 KB responses: server CPU per request    0.61-0.66 ms          0.41-0.45 ms
a reward that answers at once, 16 KB      0.63-0.72 ms          0.40-0.48 ms
========================================  ====================  ==================

(a bare Starlette route that only parses the body: 0.14 ms). At 16 KB the reward's own work
hides the difference in this machine's noise. ``rlsp-rewards bench --reward`` measures the
whole server (its CPU per request is one of its notes).

The gate in front of the app (:class:`~rlsp_rewards.integrations.openrlhf.gate.Gate`) has read
the body already, so it hands a ``POST /get_reward`` straight to :meth:`GetReward.respond`,
past FastAPI's middleware and router (about ten layers of ASGI calls; other methods still go
through the router, which answers 405). Six alternated rounds against the build before, one
``serve`` process each, on 2026-12-04: server CPU per request 0.27-0.33 ms against 0.32-0.52
at 1 KB (median requests/s 3,040 against 2,830) and 0.86-0.99 against 0.86-1.17 ms at 16 KB
(median 1,430 against 1,275 requests/s).

The schemas stay documented: :func:`document` adds the route to the app's OpenAPI document
with :class:`OpenRLHFRequest` and :class:`OpenRLHFResponse`. Bad requests get what FastAPI
answered before: 422 with one readable line per problem, never an echo of the input.

Example:
    >>> OpenRLHFRequest(query=["<|im_start|>assistant\\n4"], labels=["4"]).prompts is None
    True
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from rlsp_rewards.integrations.openrlhf.adapter import PER_SAMPLE_CALLS, OpenRLHFReward
from rlsp_rewards.integrations.openrlhf.batcher import MicroBatcher
from rlsp_rewards.integrations.openrlhf.metrics import ServerMetrics

__all__ = ["PATH", "GetReward", "OpenRLHFRequest", "OpenRLHFResponse", "document", "problems"]

#: Where OpenRLHF posts (``--reward.remote_url http://host:port/get_reward``).
PATH = "/get_reward"
#: Queries longer than this in total are split into prompt and response in a worker thread.
_INLINE_CHARS = 65_536
#: The line for a body that is not a JSON object.
_NOT_AN_OBJECT = "the body must be a JSON object sent with 'Content-Type: application/json'"


class OpenRLHFRequest(BaseModel):
    """OpenRLHF's request body: parallel lists, one entry per sample.

    Example:
        >>> OpenRLHFRequest(query=["<|im_start|>assistant\\n4"], labels=["4"]).prompts is None
        True
    """

    query: list[str] = Field(description="prompt + response, decoded with special tokens kept")
    prompts: list[str | None] | None = Field(None, description="the templated prompts")
    labels: list[Any] | None = Field(None, description="the dataset's label: a string or a dict")

    @model_validator(mode="after")
    def _same_lengths(self) -> OpenRLHFRequest:
        for name in ("prompts", "labels"):
            values = getattr(self, name)
            if values is not None and len(values) != len(self.query):
                raise ValueError(f"{name} has {len(values)} entries, query has {len(self.query)}")
        return self


class OpenRLHFResponse(BaseModel):
    """OpenRLHF's response body: ``rewards``, 0/1 ``scores``, and numeric ``extra_logs``.

    Example:
        >>> OpenRLHFResponse(rewards=[0.6], scores=[1.0], extra_logs={"acc": [1.0]}).scores
        [1.0]
    """

    rewards: list[float]
    scores: list[float]
    extra_logs: dict[str, list[float]]


def problems(errors: Iterable[Mapping[str, Any]], prefix: tuple[str, ...] = ()) -> list[str]:
    """One readable line per validation error (``where: message``); never the input itself.

    Example:
        >>> problems([{"loc": ("query",), "msg": "Field required", "type": "missing"}], ("body",))
        ['body.query: Field required']
    """
    lines = []
    for error in errors:
        loc = (*prefix, *(str(part) for part in error.get("loc", ())))
        message = str(error.get("msg", "invalid"))
        if error.get("type") in {"model_type", "model_attributes_type"} and loc == ("body",):
            message = _NOT_AN_OBJECT
        lines.append(f"{'.'.join(loc)}: {message}")
    return lines


class GetReward:
    """The ASGI endpoint of ``POST /get_reward`` (mounted as a Starlette route).

    Args:
        adapter: turns OpenRLHF's lists into samples and results into its answer.
        metrics: counts the outcome statuses of the results.
        batcher: scores the samples of concurrent requests off the event loop; ``None``
            scores each request's samples on the loop with the reward's async path.
        group_only: why this reward cannot score one sample per request (a group shape),
            answered as 422; ``None`` when it can.
    """

    def __init__(
        self,
        adapter: OpenRLHFReward,
        metrics: ServerMetrics,
        batcher: MicroBatcher | None,
        group_only: str | None = None,
    ) -> None:
        self.adapter = adapter
        self.metrics = metrics
        self.batcher = batcher
        self.group_only = group_only

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        await self.respond(scope, await _body(receive), send)

    async def respond(self, scope: dict, raw: bytes, send: Any) -> None:
        """Answer a request whose body has been read (the gate calls this directly)."""
        status, answer = await self._answer(scope, raw)
        body = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: dict, raw: bytes) -> tuple[int, dict[str, Any]]:
        if not _is_json(scope):
            return 422, {"detail": [f"body: {_NOT_AN_OBJECT}"]}
        try:
            request = OpenRLHFRequest.model_validate(json.loads(raw))
        except ValidationError as exc:
            return 422, {"detail": problems(exc.errors(), ("body",)) or ["invalid request"]}
        except ValueError:  # JSONDecodeError, UnicodeDecodeError: not JSON at all
            return 422, {"detail": ["body: JSON decode error"]}
        except RecursionError:  # "[[[[..." deeper than the parser's stack
            return 422, {"detail": ["body: JSON nested too deeply"]}
        if self.group_only is not None:
            return 422, {"detail": f"{self.group_only}. {PER_SAMPLE_CALLS}"}
        adapter = self.adapter
        if sum(map(len, request.query)) > _INLINE_CHARS:  # splitting can take long: off the loop
            samples, evals = await asyncio.to_thread(
                adapter.samples, request.query, request.prompts, request.labels
            )
        else:
            samples, evals = adapter.samples(request.query, request.prompts, request.labels)
        if self.batcher is not None:
            results = await self.batcher.score(samples)
        else:
            results = await asyncio.gather(*(adapter.reward.asafe_score(s) for s in samples))
        self.metrics.observe_results(results)
        return 200, adapter.payload(results, evals)


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Add ``POST /get_reward`` and its two schemas to an OpenAPI document (in place).

    Example:
        >>> spec = document({"paths": {}, "components": {"schemas": {}}})
        >>> sorted(spec["components"]["schemas"]), list(spec["paths"])
        (['OpenRLHFRequest', 'OpenRLHFResponse'], ['/get_reward'])
    """
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (OpenRLHFRequest, OpenRLHFResponse):
        schemas[model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )

    def body(name: str) -> dict[str, Any]:
        return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}

    schema.setdefault("paths", {})[PATH] = {
        "post": {
            "summary": "Get Reward",
            "description": "Score samples in OpenRLHF's protocol "
            "(``--reward.remote_url .../get_reward``).",
            "operationId": "get_reward",
            "requestBody": {"required": True, "content": body("OpenRLHFRequest")},
            "responses": {
                "200": {"description": "One reward per query", "content": body("OpenRLHFResponse")},
                "422": {"description": "A bad request: one line per problem"},
            },
        }
    }
    return schema


def _is_json(scope: dict) -> bool:
    """Whether the request says its body is JSON (or says nothing), as FastAPI decides."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = value.decode("latin-1").partition(";")[0].strip().lower()
            main, _, sub = kind.partition("/")
            return main == "application" and (sub == "json" or sub.endswith("+json"))
    return True


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return b"".join(chunks)
