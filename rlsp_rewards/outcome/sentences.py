"""Final answers written in words: after a marker, in the closing sentence, and hedges.

* :func:`marker_reading`: the answer after the rightmost marker near the end of a response
  (:data:`MARKERS`: ``The final answer is``, ``Final Answer``, ``answer is`` as in ``The
  (correct) answer is``, ``Answer:``, ``####``). The answer is the first sentence after the
  marker, without a following clause (``12, which is even``); when that sentence names its
  subject (``The largest $n$ is 34``) the answer is what the subject is, and a value followed
  by plain words (``18 apples in total``) is the value.
* :func:`closing_reading`: with no box and no marker, the closing sentence, read
  conservatively: it must state a result, as ``<subject> is <value>`` (``So the area is
  $16\\pi$ square units.``, ``The intersection point is (-2, 5).``), ``Thus, $x = 5$.``,
  ``We find that $x = 6$.``, or ``<subject> <verb> <number> <words>`` (``A cube has 6
  faces.``, ``The train travels 40 miles per hour.``, ``It takes her 45 minutes.``); when the
  whole sentence states none, its last clause may (``For every k, ..., so there are infinitely
  many.``). A question, a plan (``Let me check...``, ``Let's say...``), an unfinished thought,
  a sentence that goes on (``..., and we treat each.``) or one with no value gives nothing.
* :func:`bare_reading`: a last paragraph that is one value alone (``42``, ``$\\frac12$``).

The values in the sentence are read by :mod:`~rlsp_rewards.outcome.phrases` (numbers, number
words, times, choices, text answers).

Whether an answer hedges, and a choice named after it, are :mod:`~rlsp_rewards.outcome.hedges`.

Everything is bounded: markers are looked for in the last :data:`MARKER_WINDOW` characters,
the closing sentence in the last :data:`CLOSING_WINDOW`, and the patterns run on one line.

Example:
    >>> marker_reading("Final Answer: The largest $n$ is 34.").answer
    '34'
    >>> closing_reading("So the area is $16\\\\pi$ square units.").answer
    '$16\\\\pi$'
    >>> closing_reading("Let me double-check by substituting.") is None
    True
"""

from __future__ import annotations

import re
from typing import NamedTuple

from rlsp_rewards.outcome.phrases import (
    LIST_JOIN,
    clause_start,
    copula_split,
    is_number,
    is_subject,
    is_value,
    leading_value,
    plain_words,
    simple_result,
    value_list,
    value_phrase,
)

__all__ = [
    "CLOSING_WINDOW",
    "MARKERS",
    "MARKER_WINDOW",
    "Reading",
    "bare_reading",
    "closing_reading",
    "first_line",
    "marker_reading",
    "sentence_end",
]

#: Text markers of a final answer, lower case; the rightmost one in the response wins.
MARKERS = (
    "the final answer is",
    "final answer:",
    "final answer",
    "answer is",
    "answer:",
    "####",
)
#: How far from the end of a response markers are looked for.
MARKER_WINDOW = 4_000
#: How far from the end of a response the closing sentence is looked for.
CLOSING_WINDOW = 1_000

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class Reading(NamedTuple):
    """An answer read from words, with the text around it.

    Attributes:
        answer: the answer as written (not yet cleaned).
        context: the line or sentence it was read from, where hedges and a named choice are
            looked for.

    Example:
        >>> Reading("12", "The answer is 12.").answer
        '12'
    """

    answer: str
    context: str


# -- after a marker ---------------------------------------------------------------------------


def marker_reading(text: str, markers: tuple[str, ...] = MARKERS) -> Reading | None:
    """The answer after the rightmost marker in the last :data:`MARKER_WINDOW` characters.

    Args:
        text: the response (or the part of it that counts).
        markers: the markers to look for, lower case.

    Returns:
        The reading, or ``None`` when no marker is followed by an answer.

    Example:
        >>> marker_reading("So the answer is 12, which is even.").answer
        '12'
        >>> marker_reading("Total: 72.\\n#### 72").answer
        '72'
    """
    tail = text[max(0, len(text) - MARKER_WINDOW) :]
    # ASCII lower case only, so that indexes stay aligned with ``tail``
    lowered = tail.lower() if tail.isascii() else tail.translate(_ASCII_LOWER)
    best_at, best_marker = -1, ""
    for marker in markers:
        at = lowered.rfind(marker)
        if at > best_at or (at == best_at and len(marker) > len(best_marker)):
            best_at, best_marker = at, marker
    if best_at < 0:
        return None
    rest = tail[best_at + len(best_marker) :]
    if best_marker == "####":  # GSM8K style: the answer is on the marker's own line
        own_line = rest.split("\n", 1)[0].strip()
        return Reading(own_line, own_line) if own_line else None
    line = first_line(rest)
    if line is None:
        return None
    answer = _sentence_answer(line)
    return Reading(answer, line) if answer else None


def first_line(rest: str) -> str | None:
    """The first non-empty line of ``rest``, markdown decorations and a leading ``is`` removed.

    A display that opens on a line of its own (``\\[`` or ``$$``) is read to its end, as one
    line.

    Example:
        >>> first_line("**\\n\\n **12**.")
        '12'
        >>> first_line(":\\n\\\\[\\n\\\\frac{1}{2}\\n\\\\]")
        '\\\\[ \\\\frac{1}{2} \\\\]'
    """
    lines = rest.split("\n", 16)[:16]
    for at, line in enumerate(lines[:8]):
        for _ in range(3):  # "**12**." loses its period, then its bold
            line = line.strip().strip("*#").strip().rstrip(".")
        line = line.strip()
        if line.startswith((":", "is ", "is:")):
            line = line.split(":", 1)[-1] if line.startswith(":") else line[2:]
            line = line.strip().lstrip(":").strip().strip("*").strip()
        if line in _DISPLAY_OPENERS:
            return _display(line, lines[at + 1 :])
        if line:
            return line
    return None


_DISPLAY_OPENERS = {"\\[": "\\]", "$$": "$$"}


def _display(opener: str, lines: list[str]) -> str | None:
    """A display math block opened on its own line, joined into one line (``None`` when it
    does not close within a few lines)."""
    closer = _DISPLAY_OPENERS[opener]
    body = []
    for line in lines[:8]:
        line = line.strip()
        if line.rstrip(".").endswith(closer):
            body.append(line.rstrip(".")[: -len(closer)].strip())
            return " ".join([opener, *filter(None, body), closer])
        body.append(line)
    return None


#: A predicate that says what a value is, not what something equals ("5 is the smallest").
_META = re.compile(r"(?:the|a|an|our|my|correct|right)(?![A-Za-z])", re.IGNORECASE)
_ADVERB = re.compile(
    r"^(?:indeed|clearly|simply|just|exactly|still|obviously|actually|definitely|certainly|"
    r"probably|likely|most\s+likely)"
    r"(?![A-Za-z])\s*,?\s*",
    re.IGNORECASE,
)


def _sentence_answer(line: str) -> str:
    """The answer in the first sentence of a marker's line."""
    cut = sentence_end(line)
    if cut >= 0:
        line = line[:cut]
    clause = clause_start(line)
    if clause >= 0:  # "12, which is even": the answer ends at the comma
        line = line[:clause]
    line = _ADVERB.sub("", line.strip(), count=1)
    split = copula_split(line)
    if split is not None:
        subject, predicate = split
        if is_value(subject) and _META.match(predicate):  # "5 is the smallest"
            line = subject
        elif is_subject(subject):  # "The largest $n$ is 34"
            line = predicate
    return value_phrase(line) or line


# -- the closing sentence ---------------------------------------------------------------------

#: Sentences that do not conclude: plans, questions, doubts, steps still to take.
_NOT_A_CONCLUSION = re.compile(
    r"(?:let(?:'s)?|say|so\s+far|suppose|assume|if|check|try|now|next|first|then|consider|"
    r"we\s+(?:need|want|must|"
    r"should|will|can|could)|we'll|i\s+(?:need|should|will|think|guess|believe)|i'll|to|hmm+|"
    r"wait|but|however|maybe|perhaps|note|recall|since|because|when|where|what|why|how|is|are|"
    r"does|do|can|could|should|would|verify|double|substitut\w*|plug\w*|for|in\s+(?:this|the)\s+"
    r"(?:case|step))(?![A-Za-z'])",
    re.IGNORECASE,
)
#: Closing pleasantries skipped before the closing sentence is read.
_PLEASANTRY = re.compile(
    r"(?:i\s+hope|hope\s+(?:this|that|it)|let\s+me\s+know|thank|feel\s+free|good\s+luck|"
    r"this\s+completes|that\s+completes|that's\s+(?:it|all)|done|the\s+end|q\.?e\.?d)",
    re.IGNORECASE,
)
#: Words that open a concluding sentence, removed before it is read.
_CONCLUSION = re.compile(
    r"(?:so|thus|therefore|hence|finally|in\s+conclusion|in\s+total|altogether|overall|"
    r"consequently|this\s+means(?:\s+that)?|which\s+means(?:\s+that)?|it\s+follows\s+that|"
    r"we\s+conclude(?:\s+that)?|the\s+result\s+is)(?![A-Za-z])\s*[,:]?\s*",
    re.IGNORECASE,
)
#: Words that may follow a conclusion word ("Thus we get $x = 5$"): alone they state a step.
_STEP = re.compile(
    r"(?:we\s+(?:get|have|find|obtain|see\s+that|know\s+that)|this\s+gives|that\s+gives)"
    r"(?![A-Za-z])\s*,?\s*",
    re.IGNORECASE,
)
#: Steps that state a result when they open the closing sentence ("We find that $x = 6$.").
_START_STEP = re.compile(
    r"(?:we\s+(?:get|find|obtain|conclude)(?:\s+that)?|this\s+gives(?:\s+us)?|"
    r"that\s+gives(?:\s+us)?|which\s+gives)(?![A-Za-z])\s*,?\s*",
    re.IGNORECASE,
)
_THERE_IS = re.compile(r"there\s+(?:is|are)\s", re.IGNORECASE)
#: Any verb of a closing sentence's subject ("travels", "measures", "arrives at", "takes her",
#: "gives a total of"): a result only when a number follows it.
_ANY_VERB = re.compile(
    r"\s(?!(?:this|his|its|was|is|as|us|thus|plus|minus|times|less|unless|yes|does)\s)"
    r"(?:[a-z]{2,}(?:s|ed)|need|get|make|take|leave|pay|earn|save|spend|run|read|walk|drive)"
    r"(?:\s+(?:for|at|to|in|on|by|about|around|up|out|off|exactly|only|approximately|a\s+total"
    r"\s+of|her|him|them|us|me|you|it))*\s",
)
_RESULT_VERB = re.compile(
    r"\s(?:has|have|had|needs|need|costs|cost|pays|paid|earns|earned|spends|spent|saves|saved|"
    r"gets|got|makes|made|sold|bought|received|receives|takes|took|weighs|contains|holds|"
    r"will\s+(?:have|need|pay|get|earn|save|spend))\s",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|never|cannot|no\s+longer)\b|n't\b", re.IGNORECASE)
_HEDGE_WORDS = re.compile(
    r"\b(?:maybe|perhaps|possibly|probably|either|might|not\s+sure|unsure)\b", re.IGNORECASE
)
#: Dollar signs (math toggles) and sentence ends, found in C and walked in order.
_SENTENCE_MARKS = re.compile(r"\$|[.!?] ")
_PERIOD_MARKS = re.compile(r"\$|\. ")
#: A finished sentence: it ends with a period or an exclamation mark (a cut-off one does not).
_FINISHED = re.compile(r"[.!][\s$*)\]\\]*$")
#: A display-math line (``$$16\pi$$``, ``\[ x = 5 \]``) that ends the sentence before it.
_DISPLAY = re.compile(r"(?:\$\$.*\$\$|\\\[.*\\\])[.\s]*")
#: A value labelled with a name: ``x = 5`` after "Thus, ...".
_LABELLED = re.compile(r"[A-Za-z](?:_\{?\w+\}?)?\s*=\s*")
#: A predicate that calls the subject the answer ("$x = 5$ is the only real solution").
_THE_ANSWER = re.compile(
    r"(?:the|our)\s+(?:(?:only|final|unique|real|desired|required|correct|positive)\s+)*"
    r"(?:solution|answer|root|value|result)s?(?![A-Za-z])",
    re.IGNORECASE,
)
_MONEY = (
    (re.compile(r"\$\s*\\\$\s*(\d[\d,]*(?:\.\d+)?)\s*\$"), r"\1"),  # $\$42$
    (re.compile(r"\\\$\s*(\d[\d,]*(?:\.\d+)?)"), r"\1"),  # \$42
)
_BARE_MONEY = re.compile(r"\$\s*(\d[\d,]*(?:\.\d+)?)")  # $42, with no other "$" about


def closing_reading(text: str) -> Reading | None:
    """The result the closing sentence of a response states, or ``None`` when it states none.

    Read only when a response has no box and no marker (see the module docstring). The
    sentence must be finished (a period or ``!`` ends it); a display-math line at the very end
    belongs to the sentence before it (``So the area is`` / ``$$16\\pi$$``).

    Args:
        text: the response (or the part of it that counts).

    Returns:
        The reading, or ``None``.

    Example:
        >>> closing_reading("The intersection point is $(-2, 5)$.").answer
        '$(-2, 5)$'
        >>> closing_reading("Therefore, the only real solution is $x = 5$.").answer
        '$x = 5$'
        >>> closing_reading("Hmm, but I should double check the rotations.") is None
        True
    """
    lines = text[max(0, len(text) - CLOSING_WINDOW) :].rstrip().rsplit("\n", 2)
    lines = [line.strip() for line in lines if line.strip()]
    if not lines:
        return None
    line = lines[-1]
    if len(lines) > 1 and _DISPLAY.fullmatch(line):
        line = lines[-2] + " " + line + ("" if _FINISHED.search(line) else ".")
    sentences = _sentences(line.strip("*#> "))
    for _ in range(2):
        if sentences and _PLEASANTRY.match(sentences[-1]):
            sentences.pop()
    if not sentences or not _FINISHED.search(sentences[-1]):
        return None
    sentence = sentences[-1].strip("* ")
    body = _CONTRACTION.sub(lambda m: m.group(1) + " is", _unmoney(sentence.rstrip(".!* ")))
    answer = _closing_answer(body)
    if answer is None:  # "For every k, n = 6k + 1 works, so there are infinitely many."
        tail = _last_clause(body)
        answer = None if tail is None else _closing_answer(tail)
    return Reading(answer, sentence) if answer else None


def bare_reading(text: str) -> Reading | None:
    """A last paragraph that is one value and nothing else (``42``, ``$\\frac{1}{2}$``), as
    responses without any marker end; ``None`` otherwise.

    Example:
        >>> bare_reading("Adding the parts:\\n\\n$42$").answer
        '$42$'
        >>> bare_reading("Hmm") is None, bare_reading("$2x + 3 = 7$") is None
        (True, True)
    """
    last = text[max(0, len(text) - _BARE_CHARS * 4) :].rstrip().rsplit("\n\n", 1)[-1].strip()
    last = last.strip("*").strip()
    if not last or len(last) > _BARE_CHARS or "\n" in last:
        return None
    value, rest = leading_value(last.rstrip("."))
    if value is None or rest.strip() or not simple_result(value):
        return None
    return Reading(value, last)


#: Longest last paragraph :func:`bare_reading` takes for a value.
_BARE_CHARS = 80
_CONTRACTION = re.compile(r"\b(that|it|there|this|answer|result)'s\b", re.IGNORECASE)


def _last_clause(sentence: str) -> str | None:
    """The clause after the last comma outside ``$...$`` when it concludes (``, so ...``,
    ``, we get ...``); ``None`` otherwise."""
    cut, in_math = -1, False
    for at, char in enumerate(sentence):
        if char == "$":
            in_math = not in_math
        elif char == "," and not in_math:
            cut = at
    if cut < 0:
        return None
    tail = sentence[cut + 1 :].strip()
    concludes = _CONCLUSION.match(tail) or _START_STEP.match(tail) or _THERE_IS.match(tail)
    return tail if concludes else None


def _closing_answer(sentence: str) -> str | None:
    if _NOT_A_CONCLUSION.match(sentence) or _HEDGE_WORDS.search(sentence):
        return None
    body, concluded = sentence, False
    conclusion = _CONCLUSION.match(body)
    if conclusion is not None:
        body, concluded = body[conclusion.end() :], True
    step = _START_STEP.match(body) or _STEP.match(body)
    started = step is not None and not concluded  # "We find that $x = 6$."
    if step is not None:
        body = body[step.end() :]
    clause = clause_start(body)
    if clause >= 0:
        body = body[:clause]
    if concluded or started:  # "Thus, $x = 5$."
        labelled = _LABELLED.match(body)
        value, rest = leading_value(body[labelled.end() :] if labelled else body)
        if value is not None and not rest.strip():
            if started and not simple_result(body):
                return None  # "We get $x^2 = 4$": a step
            return body.strip() if labelled else value
        if concluded and value is not None and not labelled:
            if LIST_JOIN.match(rest):  # "So $x = 1$ and $y = 2$."
                return value_list(body)
            if is_number(value) and plain_words(rest):  # "Therefore $6$ students passed."
                return value
    split = copula_split(body)
    if split is not None:
        subject, predicate = split
        if is_value(subject) and _THE_ANSWER.fullmatch(predicate):
            return subject
        return value_phrase(predicate, strict=True) if is_subject(subject) else None
    for verbs in (_RESULT_VERB, _ANY_VERB):  # "A cube has 6 faces.", "It takes her 45 minutes."
        if verbs is _ANY_VERB and clause >= 0:
            break  # "The equation reduces to 2 cases, and we treat each.": more is to come
        verb = verbs.search(body)
        if verb is None or _NEGATION.search(body[: verb.start()]):
            continue  # "I could not finish this one.": a negated sentence states no result
        if is_subject(body[: verb.start()], most_words=8):
            value, rest = leading_value(body[verb.end() :])
            if value is not None and is_number(value) and plain_words(rest):
                return value
    return None


def _unmoney(sentence: str) -> str:
    """Amounts of money as plain numbers: ``$\\$42$``, ``\\$42``, and ``$42`` with no math."""
    for pattern, replacement in _MONEY:
        sentence = pattern.sub(replacement, sentence)
    if sentence.count("$") == 1:
        sentence = _BARE_MONEY.sub(r"\1", sentence)
    return sentence


def _sentences(line: str) -> list[str]:
    """A line split into sentences at ``. ``, ``! ``, ``? `` outside ``$...$``."""
    found, start, in_math = [], 0, False
    for match in _SENTENCE_MARKS.finditer(line):
        if match.group() == "$":
            in_math = not in_math
        elif not in_math:
            found.append(line[start : match.start() + 1])
            start = match.end()
    found.append(line[start:])
    return [sentence for sentence in (s.strip() for s in found) if sentence]


def sentence_end(line: str) -> int:
    """Index of a period that ends a sentence (followed by a space), outside ``$...$``; -1.

    Example:
        >>> sentence_end("It is $3.5$. Next"), sentence_end("No end")
        (11, -1)
    """
    in_math = False
    for match in _PERIOD_MARKS.finditer(line):
        if match.group() == "$":
            in_math = not in_math
        elif not in_math:
            return match.start()
    return -1
