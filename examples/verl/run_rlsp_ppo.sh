#!/usr/bin/env bash
# PPO on Llama-3.1-8B-Instruct with the RLSP reward (paper preset), the paper's settings in verl
# 0.9.1 keys. Needs GPUs (8 x 80 GB as written) and the data from prepare_data.py:
#   python examples/verl/prepare_data.py ~/datasets/MATH/train --split train \
#       --output "$DATA_DIR/train.parquet" --data-source math
#   python examples/verl/prepare_data.py ~/datasets/math500.jsonl --split test \
#       --output "$DATA_DIR/test.parquet" --data-source math500
# The paper SFT'd Llama-3.1-8B on long-CoT traces first: point MODEL at that checkpoint.
#
# How the paper's settings map (SPEC.md section 1):
#   gamma 1, lambda 0.95        algorithm.gamma, algorithm.lam (GAE, with a critic)
#   clip 0.2, value clip 0.2    actor.clip_ratio, critic.cliprange_value
#   fixed KL 0.05               a per-token KL penalty in the reward (use_kl_in_reward, fixed
#                               kl_coef 0.05, no actor KL loss): the length reward exists to
#                               offset exactly that per-token penalty
#   actor lr 2e-7, critic 2e-6  actor.optim.lr, critic.optim.lr
#   rollout batch 512           data.train_batch_size=512 prompts per step (rollout.n=1)
#   train batch 128             ppo_mini_batch_size=128: 4 updates per step, ppo_epochs=1
#   prompt 2048, response 4096  data.max_prompt_length, data.max_response_length
#   temperature 0.7             actor_rollout_ref.rollout.temperature
#   reward clip [-10, 10]       verl has no reward clip; the rlsp manager's clip_range does it
set -euo pipefail

MODEL=${MODEL:-meta-llama/Llama-3.1-8B-Instruct}
DATA_DIR=${DATA_DIR:-$HOME/data/rlsp}
N_GPUS=${N_GPUS:-8}
NNODES=${NNODES:-1}
PROJECT=${PROJECT:-rlsp}
EXPERIMENT=${EXPERIMENT:-llama31-8b-ppo-rlsp-paper}

python3 -m verl.trainer.main_ppo \
    algorithm.adv_estimator=gae \
    algorithm.gamma=1.0 \
    algorithm.lam=0.95 \
    algorithm.use_kl_in_reward=True \
    algorithm.kl_penalty=kl \
    algorithm.kl_ctrl.type=fixed \
    algorithm.kl_ctrl.kl_coef=0.05 \
    data.train_files="${DATA_DIR}/train.parquet" \
    data.val_files="${DATA_DIR}/test.parquet" \
    data.train_batch_size=512 \
    data.max_prompt_length=2048 \
    data.max_response_length=4096 \
    data.filter_overlong_prompts=True \
    data.truncation=error \
    actor_rollout_ref.model.path="${MODEL}" \
    actor_rollout_ref.model.enable_gradient_checkpointing=True \
    actor_rollout_ref.model.use_remove_padding=True \
    actor_rollout_ref.actor.optim.lr=2e-7 \
    actor_rollout_ref.actor.ppo_mini_batch_size=128 \
    actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2 \
    actor_rollout_ref.actor.ppo_epochs=1 \
    actor_rollout_ref.actor.clip_ratio=0.2 \
    actor_rollout_ref.actor.use_kl_loss=False \
    actor_rollout_ref.actor.entropy_coeff=0 \
    actor_rollout_ref.actor.fsdp_config.param_offload=False \
    actor_rollout_ref.actor.fsdp_config.optimizer_offload=False \
    actor_rollout_ref.rollout.name=vllm \
    actor_rollout_ref.rollout.n=1 \
    actor_rollout_ref.rollout.temperature=0.7 \
    actor_rollout_ref.rollout.tensor_model_parallel_size=2 \
    actor_rollout_ref.rollout.gpu_memory_utilization=0.6 \
    actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=4 \
    actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=4 \
    critic.model.path="${MODEL}" \
    critic.model.enable_gradient_checkpointing=True \
    critic.model.use_remove_padding=True \
    critic.optim.lr=2e-6 \
    critic.ppo_mini_batch_size=128 \
    critic.ppo_micro_batch_size_per_gpu=2 \
    critic.cliprange_value=0.2 \
    reward.custom_reward_function.path=pkg://rlsp_rewards \
    reward.custom_reward_function.name=combined \
    +reward.custom_reward_function.reward_kwargs.preset=paper \
    +reward.custom_reward_function.reward_kwargs.timeout_s=10 \
    reward.reward_manager.name=rlsp \
    '+reward.reward_kwargs.clip_range=[-10,10]' \
    reward.num_workers=8 \
    trainer.logger='["console","wandb"]' \
    trainer.project_name="${PROJECT}" \
    trainer.experiment_name="${EXPERIMENT}" \
    trainer.n_gpus_per_node="${N_GPUS}" \
    trainer.nnodes="${NNODES}" \
    trainer.val_before_train=True \
    trainer.test_freq=10 \
    trainer.save_freq=50 \
    trainer.total_epochs=3 \
    "$@"
