"""The ``upsell-rules`` command line (click). One module per command."""
