#!/usr/bin/env bash
# RLSP's decoupling as verl does it: GDPO (algorithm.adv_estimator=gdpo) normalises the outcome
# and the length term separately within each group of 8 responses, then weights them 0.8 / 0.2
# (alpha), instead of normalising their sum. A wrong answer can then never buy a higher advantage
# than a right one of its group by being longer, whatever the scale of -C/|o|.
#
# Differences from run_rlsp_grpo.sh, and why:
# - trainer.use_v1=False: verl 0.9.1's default (v1) trainer hands the advantage estimator only
#   uid, response_mask and rm_scores, so gdpo fails there (KeyError 'prompts'); the legacy
#   trainer passes the whole batch, our reward keys included.
# - the KL is a loss term (actor.use_kl_loss, coefficient 0.05), not a reward penalty: gdpo
#   reads the components from our reward keys and ignores token_level_rewards, where
#   use_kl_in_reward would have put the penalty.
# - preset paper with repetition_aware=True: the length counts non-repetitive tokens only (the
#   guard against length hacking), but is not clamped: per-group normalisation already bounds
#   its weight, and a clamp at -1 would flatten every response under 1000 tokens to one value.
# - no clip_range: gdpo does not read the summed score (verl logs it as before).
# - the `+` on the gdpo keys: verl 0.9.1's ppo_trainer.yaml does not list them (Hydra needs it).
# Per-step training metrics: gdpo/outcome/{mean,std,max,min}, gdpo/length_term/{...}.
set -euo pipefail

MODEL=${MODEL:-meta-llama/Llama-3.1-8B-Instruct}
DATA_DIR=${DATA_DIR:-$HOME/data/rlsp}
N_GPUS=${N_GPUS:-8}
NNODES=${NNODES:-1}
PROJECT=${PROJECT:-rlsp}
EXPERIMENT=${EXPERIMENT:-llama31-8b-gdpo-rlsp}

python3 -m verl.trainer.main_ppo \
    trainer.use_v1=False \
    algorithm.adv_estimator=gdpo \
    '+algorithm.gdpo_reward_keys=[outcome,length_term]' \
    '+algorithm.gdpo_reward_weights=[0.8,0.2]' \
    algorithm.gamma=1.0 \
    algorithm.use_kl_in_reward=False \
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
    actor_rollout_ref.actor.use_kl_loss=True \
    actor_rollout_ref.actor.kl_loss_coef=0.05 \
    actor_rollout_ref.actor.kl_loss_type=kl \
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
    +reward.custom_reward_function.reward_kwargs.preset=paper \
    +reward.custom_reward_function.reward_kwargs.repetition_aware=True \
    +reward.custom_reward_function.reward_kwargs.timeout_s=10 \
    reward.reward_manager.name=rlsp \
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
