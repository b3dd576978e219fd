"""History: snapshots, outcomes, backtest, calibrate, the HTML report, sample history."""
