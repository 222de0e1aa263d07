"""The ``rlsp-rewards`` command line: a front end; the core never imports it.

* :mod:`~rlsp_rewards.cli.app`: the commands and their options;
* :mod:`~rlsp_rewards.cli.runs`: offline scoring of rollout files (streaming, resumable);
* :mod:`~rlsp_rewards.cli.lines`: the lines of a JSONL or ``.jsonl.gz`` file, read past damage;
* :mod:`~rlsp_rewards.cli.summary`: the summary tables and plots of a scored file;
* :mod:`~rlsp_rewards.cli.demo`: ``rlsp-rewards demo`` on the shipped sample rollouts.
"""
