"""The training report: a run's rollouts over steps as one self-contained HTML page.

A front end (the core never imports it). ``rlsp-rewards report RUN_DIR -o report.html`` reads a
run's rollouts, aggregates them per step, checks the warning rules and writes the page:

* :mod:`~rlsp_rewards.report.sources`: reading run folders (verl's rollout dumps, our scored
  files), one :class:`~rlsp_rewards.report.sources.Rollout` at a time, re-scoring on request;
* :mod:`~rlsp_rewards.report.metrics`: per-step aggregates in bounded memory, and the metrics;
* :mod:`~rlsp_rewards.report.rules`: the warning rules (windows, thresholds) and their findings;
* :mod:`~rlsp_rewards.report.figures`: one line plot per metric over steps (matplotlib, headless);
* :mod:`~rlsp_rewards.report.page`: the HTML page (figures inline, text escaped, no network);
* :mod:`~rlsp_rewards.report.build`: the command's work, from a folder to the page, with progress.
"""
