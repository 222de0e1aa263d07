"""The judge's rubric: the prompt we send, and the replies we accept.

The rubric follows the RLSP paper's description of its effort judge: four dimensions (diversity
of strategies, depth of exploration, creativity, persistence and rigor), five bands from 0 to 1,
correctness ignored, the judge sees the problem and the response (never the gold) and answers
JSON with a ``rationale`` and a ``grade``. The wording is ours.

Templates are versioned by name (:data:`TEMPLATES`); a user template is a UTF-8 text file with
the placeholders ``{response}`` (required) and ``{problem}`` (optional), sent as one user
message (one message works with every chat template, including those that reject a system
role). Other braces in a template are kept as they are.

A reply is accepted when it contains a JSON object with a ``grade`` in [0, 1]: bare, inside a
```` ```json ```` fence, or surrounded by prose, after a ``<think>`` block; a trailing comma and a
grade written as a string (``"0.8"``) are tolerated. Anything else (no object, no grade, a grade
outside [0, 1], not a number) is a :class:`JudgeReplyError`: a judge failure, never a number.

Example:
    >>> text = render_prompt(load_template("rlsp-effort-v1"), "What is 2+2?", "2+2=4. Check: 2*2.")
    >>> "What is 2+2?" in text and text.count("<response>") == 1
    True
    >>> parse_reply('Sure! ```json\\n{"rationale": "one short line", "grade": "0.3",}\\n```').grade
    0.3
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rlsp_rewards.errors import JudgeError

__all__ = [
    "DEFAULT_TEMPLATE",
    "NO_PROBLEM",
    "TEMPLATES",
    "JudgeReply",
    "JudgeReplyError",
    "load_template",
    "parse_reply",
    "render_prompt",
    "truncate_middle",
]

#: Template version names and the packaged files that hold them.
TEMPLATES: dict[str, str] = {"rlsp-effort-v1": "judge_prompt_v1.txt"}
#: The template used unless a setting names another.
DEFAULT_TEMPLATE = "rlsp-effort-v1"
#: What the prompt says in place of a problem statement that the caller could not provide.
NO_PROBLEM = "(The problem statement is not available: grade the response on its own.)"

#: Replies longer than this are read from their end (where the JSON object usually is).
_MAX_REPLY_CHARS = 32_000
#: JSON decoding attempts per reply: keeps a hostile reply (many ``{``) linear in practice.
_MAX_DECODE_ATTEMPTS = 64
_PLACEHOLDER = re.compile(r"\{(problem|response)\}")
_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_DECODER = json.JSONDecoder()


class JudgeReplyError(JudgeError, ValueError):
    """The judge's reply holds no usable grade; the message says why."""


class JudgeReply(BaseModel):
    """A judge's verdict, validated: a grade in [0, 1] and the judge's reason for it.

    Example:
        >>> JudgeReply.model_validate({"grade": "0.8"}).grade
        0.8
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    rationale: str = ""
    grade: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)

    @field_validator("rationale", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value)

    @field_validator("grade", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if isinstance(value, bool):  # JSON true/false is not a grade
            raise ValueError(f"grade must be a number, got {value!r}")
        return value.strip() if isinstance(value, str) else value


def load_template(name_or_path: str) -> str:
    """The text of a prompt template: a version name from :data:`TEMPLATES` or a file path.

    Args:
        name_or_path: e.g. ``"rlsp-effort-v1"`` or ``"/path/to/my_rubric.txt"``.

    Returns:
        The template text, with a ``{response}`` placeholder.

    Raises:
        ValueError: when the name is unknown, the file unreadable, or ``{response}`` missing.

    Example:
        >>> "{response}" in load_template("rlsp-effort-v1")
        True
    """
    if name_or_path in TEMPLATES:
        return (resources.files("rlsp_rewards.judge") / "data" / TEMPLATES[name_or_path]).read_text(
            encoding="utf-8"
        )
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        known = ", ".join(sorted(TEMPLATES))
        raise ValueError(
            f"judge prompt {name_or_path!r} is neither a known version ({known}) nor a file"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the judge prompt file {str(path)!r}: {exc}") from None
    if "{response}" not in text:
        raise ValueError(
            f"the judge prompt file {str(path)!r} has no {{response}} placeholder; add one "
            "(and optionally {problem}) where the text to grade goes"
        )
    return text


def truncate_middle(text: str, max_chars: int) -> str:
    """``text`` cut to at most ``max_chars`` characters by dropping its middle, with a marker.

    The marker is about 40 characters, so a budget under that gives just the marker.

    Example:
        >>> truncate_middle("abcdefghijklmnopqrstuvwxyz" * 4, 60)
        'abcdefghijklm\\n[... 78 characters omitted ...]\\nnopqrstuvwxyz'
        >>> truncate_middle("short", 60)
        'short'
    """
    if len(text) <= max_chars:
        return text
    # Sized with the longest possible count, so the result never exceeds max_chars.
    keep = max(max_chars - len(_omission(len(text))), 0)
    head, tail = keep // 2, keep - keep // 2
    return text[:head] + _omission(len(text) - keep) + text[len(text) - tail :]


def _omission(count: int) -> str:
    return f"\n[... {count} characters omitted ...]\n"


def render_prompt(
    template: str, problem: str | None, response: str, max_chars: int = 32_000
) -> str:
    """The judge's user message: the template with the problem and response put in.

    The problem gets at most a quarter of ``max_chars``, the response the rest; longer texts
    lose their middle (see :func:`truncate_middle`). Placeholders are filled in one pass, so
    braces inside the problem or response are never expanded.

    Args:
        template: the template text (see :func:`load_template`).
        problem: the problem statement, or ``None`` when unknown (the prompt says so).
        response: the response to grade.
        max_chars: the character budget for problem plus response.

    Example:
        >>> render_prompt("Q: {problem} A: {response}", None, "{problem}")
        'Q: (The problem statement is not available: grade the response on its own.) A: {problem}'
    """
    problem_text = NO_PROBLEM if not problem or not problem.strip() else problem
    problem_text = truncate_middle(problem_text, max(max_chars // 4, 1))
    values = {
        "problem": problem_text,
        "response": truncate_middle(response, max(max_chars - len(problem_text), 1)),
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def parse_reply(content: str) -> JudgeReply:
    """Read the judge's grade from the text of its reply.

    The last JSON object with a ``grade`` key wins, looking first inside fenced blocks, then in
    the whole reply; a trailing comma is repaired when strict JSON fails.

    Raises:
        JudgeReplyError: when no valid grade in [0, 1] is found; the message says what was wrong.

    Example:
        >>> parse_reply('My verdict: {"rationale": "varied", "grade": 0.9}. Done.').grade
        0.9
        >>> try:
        ...     parse_reply('{"grade": 1.7}')
        ... except JudgeReplyError as exc:
        ...     print(exc)
        invalid grade in the judge's reply: grade: Input should be less than or equal to 1
    """
    text = content.rsplit("</think>", 1)[-1][-_MAX_REPLY_CHARS:]
    found = _last_graded_object(text)
    if found is None:
        preview = " ".join(text.split())[:80]
        raise JudgeReplyError(f"no JSON object with a grade in the judge's reply: {preview!r}")
    try:
        return JudgeReply.model_validate(found)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise JudgeReplyError(f"invalid grade in the judge's reply: {problems}") from None


def _last_graded_object(text: str) -> dict[str, Any] | None:
    bare = text.strip()
    if bare[:1] == "{" and bare[-1:] == "}":  # the usual reply: one bare object, read at once
        try:
            obj = json.loads(bare)
        except ValueError:
            pass
        else:
            if isinstance(obj, dict):
                lowered = {str(k).lower(): v for k, v in obj.items()}
                if "grade" in lowered:
                    return lowered
    for candidate in [*_FENCE.findall(text), text]:
        for variant in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
            graded = [obj for obj in _json_objects(variant) if "grade" in obj]
            if graded:
                return graded[-1]
    return None


def _json_objects(text: str) -> Iterator[dict[str, Any]]:
    """The top-level JSON objects in ``text`` (keys lower-cased), left to right."""
    decoder = _DECODER
    start = text.find("{")
    attempts = 0
    while start != -1 and attempts < _MAX_DECODE_ATTEMPTS:
        attempts += 1
        try:
            obj, end = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(obj, dict):
            yield {str(k).lower(): v for k, v in obj.items()}
        start = text.find("{", end)
