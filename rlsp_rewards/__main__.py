"""``python -m rlsp_rewards`` runs the command line."""

from rlsp_rewards.cli.app import main

main()
