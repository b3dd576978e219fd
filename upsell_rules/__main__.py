"""Allow ``python -m upsell_rules``."""

from upsell_rules.cli.main import main

main()
