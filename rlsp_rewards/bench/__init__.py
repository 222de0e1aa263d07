"""Benchmarks and their workloads: ``rlsp-rewards bench``. A front end; the core never imports it.

* :mod:`~rlsp_rewards.bench.throughput`: the verifier's throughput beside the baselines;
* :mod:`~rlsp_rewards.bench.workload`: generated rollouts shaped like real ones;
* :mod:`~rlsp_rewards.bench.accuracy`: accuracy on labelled answer sets, beside math-verify;
* :mod:`~rlsp_rewards.bench.judge`: the judge client against a stub OpenAI-compatible server.
"""
