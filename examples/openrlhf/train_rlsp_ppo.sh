#!/usr/bin/env bash
# RLSP with OpenRLHF 0.11.2: PPO with the paper's settings (Ye et al., arXiv 2502.06773),
# rewards from rlsp-rewards. Two ways to plug the reward in (REWARD_MODE):
#
#   file    (default) the one-line adapter file, run inside each vLLM rollout actor:
#             REWARD_MODE=file bash train_rlsp_ppo.sh
#   server  one or more `rlsp-rewards serve` processes (comma-separated URLs, round-robin):
#             rlsp-rewards serve --host 0.0.0.0 --port 8000 --preset paper &
#             REWARD_MODE=server REWARD_URLS=http://10.0.0.5:8000/get_reward,http://10.0.0.6:8000/get_reward \
#               bash train_rlsp_ppo.sh
#
# Reward settings (file mode) come from RLSP_REWARD_CONFIG, forwarded to every Ray actor through
# the job's runtime env (an exported shell variable alone does not reach actors on other nodes).
# Set PRINT_ARGS=1 to print the trainer's arguments (one per line) instead of submitting.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODEL="${MODEL:-meta-llama/Llama-3.1-8B-Instruct}"   # the paper: an SFT'd Llama-3.1-8B, or Qwen2.5-32B-Instruct
TRAIN_DATA="${TRAIN_DATA:-${HERE}/math_train.jsonl}"  # from prepare_data.py
EVAL_DATA="${EVAL_DATA:-${HERE}/aime_eval.jsonl}"     # prepare_data.py --eval: labels ask for 0/1 rewards
SAVE_DIR="${SAVE_DIR:-${HERE}/ckpt/rlsp_ppo}"
GPUS="${GPUS:-8}"
REWARD_MODE="${REWARD_MODE:-file}"
PAPER_PRESET='{"preset": "paper"}'
RLSP_REWARD_CONFIG="${RLSP_REWARD_CONFIG:-${PAPER_PRESET}}"
RAY_ADDRESS="${RAY_ADDRESS:-http://127.0.0.1:8265}"

case "${REWARD_MODE}" in
  file)   REWARD_URL="${REWARD_FILE:-$(rlsp-rewards openrlhf-path)}" ;;
  server) REWARD_URL="${REWARD_URLS:-http://127.0.0.1:8000/get_reward}" ;;
  *)      echo "REWARD_MODE must be 'file' or 'server', got '${REWARD_MODE}'" >&2; exit 2 ;;
esac

ARGS=(
  # placement: one node, everything colocated, vLLM and DeepSpeed sleeping in turn
  --ref.num_nodes 1 --ref.num_gpus_per_node "${GPUS}"
  --actor.num_nodes 1 --actor.num_gpus_per_node "${GPUS}"
  --critic.num_nodes 1 --critic.num_gpus_per_node "${GPUS}"
  --vllm.num_engines "${GPUS}" --vllm.tensor_parallel_size 1
  --vllm.gpu_memory_utilization 0.6 --vllm.enable_sleep --ds.enable_sleep
  --train.colocate_all
  --actor.model_name_or_path "${MODEL}"
  # the reward: our adapter file or our servers
  --reward.remote_url "${REWARD_URL}"
  --reward.clip_range -10 10
  # data: prompt <= 2048 tokens, generation <= 4096
  --data.prompt_dataset "${TRAIN_DATA}" --data.input_key input --data.label_key label
  --data.apply_chat_template
  --data.max_len 6144 --rollout.max_new_tokens 4096
  --eval.dataset "${EVAL_DATA}" --eval.steps 10 --eval.temperature 0.7 --eval.n_samples_per_prompt 4
  # PPO as in the paper
  --algo.advantage.estimator gae --algo.advantage.gamma 1.0 --algo.advantage.lambd 0.95
  --actor.eps_clip 0.2 --critic.value_clip 0.2
  --algo.kl.init_coef 0.05
  --actor.adam.lr 2e-7 --critic.adam.lr 2e-6
  --rollout.batch_size 512 --train.batch_size 128
  --rollout.micro_batch_size 8 --train.micro_batch_size 2
  --rollout.n_samples_per_prompt 1 --rollout.temperature 0.7
  --train.max_epochs 1 --train.num_episodes 1
  # memory and speed
  --ds.zero_stage 3 --ds.param_dtype bf16 --actor.gradient_checkpointing_enable --ds.packing_samples
  # checkpoints and logs
  --ckpt.output_dir "${SAVE_DIR}" --ckpt.path "${SAVE_DIR}/checkpoints" --ckpt.save_steps 20 --ckpt.save_hf
  --logger.logging_steps 1 --logger.tensorboard_dir "${SAVE_DIR}/tensorboard"
)

if [[ "${PRINT_ARGS:-0}" == "1" ]]; then
  printf '%s\n' "${ARGS[@]}"
  exit 0
fi

RUNTIME_ENV="$(python3 -c 'import json, sys; print(json.dumps({"env_vars": {"RLSP_REWARD_CONFIG": sys.argv[1]}}))' "${RLSP_REWARD_CONFIG}")"
exec ray job submit --address="${RAY_ADDRESS}" --runtime-env-json="${RUNTIME_ENV}" \
  -- python3 -m openrlhf.cli.train_ppo_ray "${ARGS[@]}"
