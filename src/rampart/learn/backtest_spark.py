"""The backtest on Spark: the embedded backtest's query, in Spark SQL, over the same Parquet log.

Everything but reading the parts and registering the relations is shared with
:mod:`rampart.learn.backtest` (the plan, the labels, the query text of
:mod:`rampart.learn.backtest_sql` in the Spark dialect, the result), so on the same log and
labels both engines give identical results (tested in local mode).

PySpark is imported when a backtest runs, not with this module: it is a dev dependency here,
installed where a cluster is. The query's relations are temporary views of the session
(``logs``, ``rule_areas``, ``event_labels``, ``entity_labels``, ``abusive_accounts``): run one
backtest at a time per session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampart.contract.outputs import Label
from rampart.detect.rules.compile_sql import SPARK
from rampart.learn.backtest import (
    ENTITY_COLUMNS,
    SQL_TYPES,
    Backtest,
    BacktestPlan,
    LabelTables,
    PlannedRule,
    assemble,
    label_tables,
    plan_backtest,
)
from rampart.logs.reader import Instant

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["backtest_spark", "local_spark", "run_spark"]


def local_spark(cores: int = 2) -> SparkSession:
    """A local-mode session for tests and one-box runs (no UI, few shuffle partitions)."""
    from pyspark.sql import SparkSession

    builder: Any = SparkSession.builder
    return (  # type: ignore[no-any-return]
        builder.master(f"local[{cores}]")
        .appName("rampart-backtest")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(cores * 2))
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def _register_labels(spark: SparkSession, plan: BacktestPlan) -> None:
    tables = plan.labels or LabelTables()
    relations: dict[str, tuple[list[Any], str]] = {
        "event_labels": (list(tables.events), "event_id STRING, area STRING"),
        "entity_labels": (list(tables.entities), "kind STRING, entity_id STRING, area STRING"),
        "abusive_accounts": ([(a,) for a in tables.accounts], "entity_id STRING"),
        "rule_areas": (plan.area_rows(), "rule BIGINT, area STRING, area_set BIGINT"),
    }
    for name, (rows, schema) in relations.items():
        spark.createDataFrame(rows, schema=schema).createOrReplaceTempView(name)


def _register_logs(spark: SparkSession, plan: BacktestPlan) -> None:
    from pyspark.sql import functions as sf

    q = SPARK.identifier
    frames: list[DataFrame] = [
        spark.read.option("mergeSchema", "true")
        .parquet(*(str(p) for p in paths))
        .withColumn("day", sf.lit(day))
        for day, paths in plan.files.items()
    ]
    if not frames:
        columns = [f"CAST(NULL AS STRING) AS {c}" for c in ENTITY_COLUMNS] + [
            f"CAST(NULL AS {SQL_TYPES[kind]}) AS {q(name)}" for name, kind in plan.columns.items()
        ]
        spark.sql(f"SELECT {', '.join(columns)} WHERE FALSE").createOrReplaceTempView("logs")
        return
    # Parts of older schema versions lack newer columns: they read as NULL, as in read_logs.
    raw = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)
    raw.createOrReplaceTempView("raw_logs")
    present = set(raw.columns)
    selected = [*ENTITY_COLUMNS] + [
        q(name) if name in present else f"CAST(NULL AS {SQL_TYPES[kind]}) AS {q(name)}"
        for name, kind in plan.columns.items()
    ]
    bounds = []
    if plan.start_us is not None:
        bounds.append(f"unix_micros(ts) >= {plan.start_us}")
    if plan.end_us is not None:
        bounds.append(f"unix_micros(ts) < {plan.end_us}")
    where = " AND ".join(bounds) or "TRUE"
    spark.sql(f"SELECT {', '.join(selected)} FROM raw_logs WHERE {where}").createOrReplaceTempView(
        "logs"
    )


def run_spark(spark: SparkSession, plan: BacktestPlan) -> tuple[list[tuple[Any, ...]], int]:
    """Run the plan in ``spark``: (count rows, events), as :func:`run_duckdb` returns them."""
    _register_labels(spark, plan)
    _register_logs(spark, plan)
    query = plan.query(SPARK)
    cached: list[DataFrame] = []
    try:
        for name, stage in query.stages:
            frame = spark.sql(stage).cache()
            frame.count()  # materialise now: later stages and the final query read it
            frame.createOrReplaceTempView(name)
            cached.append(frame)
        counts = [tuple(row) for row in spark.sql(query.final).collect()]
        events = spark.sql("SELECT COUNT(*) FROM logs").collect()[0][0]
    finally:
        for frame in cached:
            frame.unpersist()
    return counts, int(events)


def backtest_spark(
    spark: SparkSession,
    logs: Path,
    rules: Sequence[PlannedRule],
    *,
    labels: Iterable[Label] | None = None,
    pseudonymize_ip: Callable[[str], str] | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
) -> Backtest:
    """Backtest ``rules`` on the log in ``logs`` with Spark (same figures as the embedded run)."""
    tables = None if labels is None else label_tables(labels, pseudonymize_ip)
    plan = plan_backtest(logs, rules, labels=tables, since=since, until=until)
    counts, events = run_spark(spark, plan)
    return assemble(plan, counts, events, "spark")
