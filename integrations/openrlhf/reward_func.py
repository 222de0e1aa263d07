from rlsp_rewards.integrations.openrlhf import reward_func  # noqa: F401  (settings: RLSP_REWARD_CONFIG)
