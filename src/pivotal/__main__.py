"""``python -m pivotal`` runs the CLI."""

from pivotal.cli import main

main()
