"""Thin framework adapters, installed as ``rlsp_rewards.integrations.<framework>``.

The core package never imports these; each one imports its framework.
"""
