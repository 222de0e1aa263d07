"""TRL's generation batch as :class:`~rlsp_rewards.core.Sample` objects.

``GRPOTrainer`` calls a reward once per generation batch with parallel lists: ``prompts`` and
``completions`` (strings, or chat message lists for conversational datasets), ``completion_ids``
(the generated token ids) and every other dataset column under its own name. :func:`samples`
reads them into one sample per completion, never raising: a missing or short list reads as
``None`` for the samples it lacks.

* The response is the completion's text; for chat messages, the assistant messages' reasoning
  (``reasoning_content`` or ``thinking``, which TRL's response parsing splits off the ``<think>``
  block) followed by their content, so the length, the behaviour counts and the judge see the
  whole chain of thought.
* The prompt (shown to the judge) is a string prompt as given, or the last user message.
* ``response_tokens`` is ``len(completion_ids[i])``: the exact count (``length_source`` 2).
* ``extra_info`` is the sample's row: every dataset column's value for it.

Example:
    >>> batch = samples(
    ...     prompts=[[{"role": "user", "content": "2+2?"}]],
    ...     completions=[[{"role": "assistant", "content": "\\\\boxed{4}"}]],
    ...     completion_ids=[[5, 6, 7]],
    ...     golds=["4"],
    ...     columns={"solution": ["4"], "level": [1]},
    ... )
    >>> s = batch[0]
    >>> s.response, s.prompt, s.response_tokens, s.gold, dict(s.extra_info)
    ('\\\\boxed{4}', '2+2?', 3, '4', {'solution': '4', 'level': 1})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlsp_rewards.core import Sample, as_text

__all__ = ["DATA_SOURCE", "TRL_KWARGS", "message_text", "prompt_text", "samples"]

#: The ``data_source`` of samples from a dataset without a ``data_source`` column.
DATA_SOURCE = "trl"

#: Keywords TRL adds that are not dataset columns.
TRL_KWARGS: frozenset[str] = frozenset({"trainer_state", "log_extra", "log_metric", "environments"})

#: The keys of an assistant message that hold its reasoning, by chat template family.
_REASONING_KEYS = ("reasoning_content", "thinking")


def samples(
    prompts: Any,
    completions: Any,
    completion_ids: Any,
    golds: Any,
    columns: Mapping[str, Any],
) -> list[Sample]:
    """One sample per completion of a TRL batch (see the module docstring). Never raises.

    Args:
        prompts: TRL's ``prompts`` (strings or message lists), or ``None``.
        completions: TRL's ``completions`` (strings or message lists).
        completion_ids: TRL's ``completion_ids`` (lists of token ids), or ``None``.
        golds: the gold column's values, or ``None``.
        columns: every dataset column TRL passed, by name (lists, one value per completion).

    Example:
        >>> [s.response for s in samples(None, ["a", None], None, None, {})]
        ['a', '']
    """
    completions = _as_list(completions)
    prompts, ids, golds = _as_list(prompts), _as_list(completion_ids), _as_list(golds)
    rows = {k: _as_list(v) for k, v in columns.items() if k not in TRL_KWARGS}
    source = rows.get("data_source", [])
    out = []
    for i, completion in enumerate(completions):
        prompt = prompts[i] if i < len(prompts) else None
        out.append(
            Sample(
                response=message_text(completion),
                gold=golds[i] if i < len(golds) else None,
                data_source=as_text(source[i]) if i < len(source) else DATA_SOURCE,
                extra_info={k: v[i] for k, v in rows.items() if i < len(v)},
                prompt=None if prompt is None else prompt_text(prompt),
                response_tokens=_count(ids[i]) if i < len(ids) else None,
            )
        )
    return out


def message_text(completion: Any) -> str:
    """A completion's text: a string as is; for chat messages, each assistant message's
    reasoning and content, in order. Never raises.

    Example:
        >>> message_text([{"role": "assistant", "reasoning_content": "try 2", "content": "4"}])
        'try 2\\n\\n4'
        >>> message_text([{"role": "assistant", "content": [{"type": "text", "text": "hi"}]}])
        'hi'
    """
    if completion is None or isinstance(completion, (str, bytes, bytearray)):
        return as_text(completion)
    messages = [completion] if isinstance(completion, Mapping) else _as_list(completion)
    parts = []
    for message in messages:
        if not isinstance(message, Mapping):
            parts.append(as_text(message))
        elif message.get("role", "assistant") == "assistant":
            parts.extend(_content(message.get(key)) for key in _REASONING_KEYS)
            parts.append(_content(message.get("content")))
    return "\n\n".join(p for p in parts if p)


def prompt_text(prompt: Any) -> str:
    """The problem as the user wrote it: a string prompt as is, else the last user message.

    Example:
        >>> prompt_text([{"role": "system", "content": "Be brief."},
        ...              {"role": "user", "content": "What is 2+2?"}])
        'What is 2+2?'
    """
    if prompt is None or isinstance(prompt, (str, bytes, bytearray)):
        return as_text(prompt)
    messages = [prompt] if isinstance(prompt, Mapping) else _as_list(prompt)
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return _content(message.get("content"))
    return ""


def _content(value: Any) -> str:
    """A message's content: a string, or the text of its ``{"type": "text"}`` blocks."""
    if value is None or isinstance(value, (str, bytes, bytearray)):
        return as_text(value)
    blocks = [value] if isinstance(value, Mapping) else _as_list(value)
    texts = (b.get("text") for b in blocks if isinstance(b, Mapping) and b.get("type") == "text")
    return "".join(as_text(t) for t in texts)


def _count(ids: Any) -> int | None:
    try:
        return len(ids)
    except Exception:  # not a sequence (a scalar, a hostile __len__)
        return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, bytearray, Mapping)):
        return [value]
    try:
        return list(value)
    except Exception:  # not iterable, or a hostile __iter__
        return [value]
