"""The reward contract checker: what verl, OpenRLHF and TRL silently require of a reward.

Frameworks punish small contract breaches without saying so: verl drops or ``KeyError``s on
keys that vary between samples, OpenRLHF turns an exception or a coroutine into a ``None``
reward and crashes later, TRL stops the step on a list of the wrong length, Ray and TRL's
spawned rollout worker fail on a closure. :func:`check_reward` calls any reward on a
battery of awkward inputs (normal, empty, ``None``, huge, unicode, adversarial LaTeX,
unparseable gold, binary junk), the way the framework would, and reports every breach in plain
words; :func:`assert_reward_contract` is the pytest helper.

Every call runs in a worker thread, as in verl and OpenRLHF (so a reward that relies on
a SIGALRM timer fails here too), and a call that never returns is abandoned after
``3 * budget_s + 2`` seconds: the checker itself never hangs.

Modules:
    * :mod:`.checker`: :func:`check_reward`, :func:`assert_reward_contract` and the run;
    * :mod:`.cases`: the battery of inputs (:class:`Case`, :data:`CASES`);
    * :mod:`.frameworks`: how verl, OpenRLHF and TRL call a reward;
    * :mod:`.calls`: one call, in a worker thread, abandoned when it hangs;
    * :mod:`.returns`: what each framework reads from the return value;
    * :mod:`.threads`: eight threads at once;
    * :mod:`.values`: return values made plain and compared;
    * :mod:`.report`: the checks, each :class:`Problem`, the :class:`ContractReport`;
    * :mod:`.targets`: :func:`load_target`, the reward a ``module:name`` spec names.

Example:
    >>> report = check_reward(lambda **kw: {"score": 1.0}, framework="verl")
    >>> report.ok, report.failed_checks
    (False, ['pickle'])
"""

from __future__ import annotations

from rlsp_rewards.testing.cases import CASES, Case
from rlsp_rewards.testing.checker import assert_reward_contract, check_reward
from rlsp_rewards.testing.frameworks import FRAMEWORKS, Framework
from rlsp_rewards.testing.report import CHECKS, ContractReport, Problem
from rlsp_rewards.testing.targets import load_target

__all__ = [
    "CASES",
    "CHECKS",
    "FRAMEWORKS",
    "Case",
    "ContractReport",
    "Framework",
    "Problem",
    "assert_reward_contract",
    "check_reward",
    "load_target",
]
