"""Separate a model's response from the decoded ``query`` that OpenRLHF passes.

OpenRLHF decodes prompt and response together with special tokens kept, so the response is
what follows the prompt. The prompt may have been left-truncated before generation, so a plain
prefix test is not always enough: :func:`split_response` tries, in order, the prompt as a
prefix, the prompt's tail anywhere in the query, and the assistant header of common chat
templates, then strips trailing end-of-turn tokens.

Example:
    >>> q = "<|im_start|>user\\n1+1?<|im_end|>\\n<|im_start|>assistant\\n\\\\boxed{2}<|im_end|>"
    >>> split_response(q, None)
    '\\\\boxed{2}'
"""

from __future__ import annotations

__all__ = ["ASSISTANT_MARKERS", "END_TOKENS", "split_response"]

#: Where the assistant's turn starts in common chat templates (the newline after is optional).
ASSISTANT_MARKERS: tuple[str, ...] = (
    "<|im_start|>assistant",  # ChatML: Qwen, Yi, OpenHermes...
    "<|start_header_id|>assistant<|end_header_id|>",  # Llama 3.x
    "<\uff5cAssistant\uff5c>",  # DeepSeek V3 / R1 (full-width bars)
    "<|Assistant|>",  # DeepSeek written with ASCII bars
    "<start_of_turn>model",  # Gemma
    "<|assistant|>",  # Phi-3, Zephyr, GLM
    "[/INST]",  # Llama 2, Mistral
)

#: End-of-turn and padding tokens stripped from the end of the response.
END_TOKENS: tuple[str, ...] = (
    "<|im_end|>",
    "<|eot_id|>",
    "<|end_of_text|>",
    "<|endoftext|>",
    "<\uff5cend\u2581of\u2581sentence\uff5c>",
    "<end_of_turn>",
    "<|end|>",
    "<eos>",
    "</s>",
)

_TAIL_CHARS = 256  # a prompt tail this long is specific enough to locate the prompt's end


def split_response(query: str, prompt: str | None) -> str:
    """The response part of ``query`` (prompt + response), without trailing special tokens.

    Args:
        query: the prompt and the response decoded together, special tokens kept.
        prompt: the templated prompt, or ``None`` when unknown.

    Returns:
        The response text; the whole query (cleaned) when no prompt boundary can be found.

    Example:
        >>> split_response("Q: 2+2? A: 4</s>", "Q: 2+2? A:")
        ' 4'
    """
    return _strip_end_tokens(_after_prompt(query, prompt or ""))


def _after_prompt(query: str, prompt: str) -> str:
    if prompt and query.startswith(prompt):
        return query[len(prompt) :]
    if len(prompt) > _TAIL_CHARS:  # only long prompts get left-truncated; their end remains
        tail = prompt[-_TAIL_CHARS:]
        at = query.find(tail)
        if at >= 0:
            return query[at + len(tail) :]
    cut, marker_end = -1, 0
    for marker in ASSISTANT_MARKERS:
        at = query.rfind(marker)
        if at > cut:
            cut, marker_end = at, at + len(marker)
    if cut < 0:
        return query
    return query[marker_end:].lstrip()


def _strip_end_tokens(text: str) -> str:
    trimmed = text.rstrip()
    changed = True
    while changed:
        changed = False
        for token in END_TOKENS:
            if trimmed.endswith(token):
                trimmed = trimmed[: -len(token)].rstrip()
                changed = True
    return trimmed
