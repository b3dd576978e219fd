"""One local Spark (``local[2]``) for the whole test session, stopped at its end.

Skipped where Java or PySpark is missing, unless ``UPSELL_RULES_REQUIRE_SPARK`` is set
(``.ci/run`` sets it when Java is installed): there a missing Spark is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A SparkSession on two local cores, quiet, bound to loopback, no UI."""
    reason = None
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        reason = "no Java runtime for Spark: apt-get install default-jre-headless"
    elif importlib.util.find_spec("pyspark") is None:
        reason = "PySpark is not installed: pip install 'upsell-rules[spark]'"
    if reason is not None:
        if os.environ.get("UPSELL_RULES_REQUIRE_SPARK"):
            pytest.fail(reason)
        pytest.skip(reason)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("upsell-rules-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
