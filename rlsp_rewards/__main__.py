"""``python -m rlsp_rewards`` runs the command line."""

from .cli import main

main()
