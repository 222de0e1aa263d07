#!/usr/bin/env bash
# Judge variant of run_rlsp_ppo.sh: R = 0.8*v + 0.2*g, with g the reasoning-effort grade in
# [0, 1] from an LLM judge behind any OpenAI-compatible endpoint (vLLM, SGLang, a hosted API).
# Everything else is the PPO run, whose overrides this script extends. The judge is awaited on the
# reward workers' event loops by the rlsp manager, so slow judge calls do not hold threads.
#
# Start a judge first, e.g. on other GPUs:  vllm serve Qwen/Qwen2.5-32B-Instruct --port 8000
# For a hosted API, also export the key the judge reads (see examples/verl/README.md).
# To let verl start and manage the judge itself instead, see "A judge verl manages" in the README.
set -euo pipefail

JUDGE_URL=${JUDGE_URL:-http://127.0.0.1:8000/v1}
JUDGE_MODEL=${JUDGE_MODEL:-Qwen/Qwen2.5-32B-Instruct}
export EXPERIMENT=${EXPERIMENT:-llama31-8b-ppo-rlsp-judge}

exec "$(dirname "$0")/run_rlsp_ppo.sh" \
    +reward.custom_reward_function.reward_kwargs.exploration=judge \
    +reward.custom_reward_function.reward_kwargs.judge_url="${JUDGE_URL}" \
    +reward.custom_reward_function.reward_kwargs.judge_model="${JUDGE_MODEL}" \
    "$@"
