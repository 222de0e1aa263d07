#!/usr/bin/env bash
# GRPO variant of run_rlsp_ppo.sh: no critic, 8 responses per prompt, and the `guarded` preset
# (the paper's formula with the length counted on non-repetitive content, its term clamped to
# [-1, 0], so a correct answer always outscores a wrong one). Same data, same rlsp manager.
#
# Kept from the paper: gamma 1, clip 0.2, the fixed per-token KL 0.05 in the reward (the length
# term offsets it), actor lr 2e-7, 512 responses per step in updates of 128 (64 prompts x 8,
# mini-batches of 16 prompts x 8), prompt 2048 / response 4096 tokens, temperature 0.7, reward clip
# [-10, 10]. Validation samples 4 responses per problem, so verl also reports majority voting
# over our `pred` key (val-core/<data_source>/acc/maj@4/mean).
set -euo pipefail

MODEL=${MODEL:-meta-llama/Llama-3.1-8B-Instruct}
DATA_DIR=${DATA_DIR:-$HOME/data/rlsp}
N_GPUS=${N_GPUS:-8}
NNODES=${NNODES:-1}
PROJECT=${PROJECT:-rlsp}
EXPERIMENT=${EXPERIMENT:-llama31-8b-grpo-rlsp-guarded}

python3 -m verl.trainer.main_ppo \
    algorithm.adv_estimator=grpo \
    algorithm.gamma=1.0 \
    algorithm.use_kl_in_reward=True \
    algorithm.kl_penalty=kl \
    algorithm.kl_ctrl.type=fixed \
    algorithm.kl_ctrl.kl_coef=0.05 \
    data.train_files="${DATA_DIR}/train.parquet" \
    data.val_files="${DATA_DIR}/test.parquet" \
    data.train_batch_size=64 \
    data.max_prompt_length=2048 \
    data.max_response_length=4096 \
    data.filter_overlong_prompts=True \
    data.truncation=error \
    actor_rollout_ref.model.path="${MODEL}" \
    actor_rollout_ref.model.enable_gradient_checkpointing=True \
    actor_rollout_ref.model.use_remove_padding=True \
    actor_rollout_ref.actor.optim.lr=2e-7 \
    actor_rollout_ref.actor.ppo_mini_batch_size=16 \
    actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2 \
    actor_rollout_ref.actor.ppo_epochs=1 \
    actor_rollout_ref.actor.clip_ratio=0.2 \
    actor_rollout_ref.actor.use_kl_loss=False \
    actor_rollout_ref.actor.entropy_coeff=0 \
    actor_rollout_ref.rollout.name=vllm \
    actor_rollout_ref.rollout.n=8 \
    actor_rollout_ref.rollout.temperature=0.7 \
    actor_rollout_ref.rollout.tensor_model_parallel_size=2 \
    actor_rollout_ref.rollout.gpu_memory_utilization=0.6 \
    actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=4 \
    actor_rollout_ref.rollout.val_kwargs.n=4 \
    actor_rollout_ref.rollout.val_kwargs.do_sample=True \
    actor_rollout_ref.rollout.val_kwargs.temperature=0.7 \
    actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=4 \
    reward.custom_reward_function.path=pkg://rlsp_rewards \
    reward.custom_reward_function.name=combined \
    +reward.custom_reward_function.reward_kwargs.preset=guarded \
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
