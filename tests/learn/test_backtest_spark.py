"""The backtest on Spark (a real local session) gives exactly the embedded backtest's results.

One session for the module (Spark starts slowly); the same scored tiny world, labels and
pseudonymiser for both engines. The rule compiler's corner cases run in the same session
against DuckDB, so the two SQL dialects are checked on the same expressions.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.detect.rules.test_compile_sql import CORNER_CASES, CORNER_TABLE
from tests.detect.rules.test_rules_parity import CATALOGUE, LISTS, _frame
from tests.learn.test_backtest import demo_ip, score_with_logs

from rampart.detect.rules import ListStore, compile_expression, load_pack
from rampart.detect.rules.compile_sql import DUCKDB, SPARK, compile_sql
from rampart.learn.backtest import (
    SQL_TYPES,
    backtest,
    expression_rule,
    pack_rules,
    read_labels,
)
from rampart.learn.backtest_spark import backtest_spark, local_spark
from rampart.logs import read_logs
from rampart.packs import DEFAULT_PACK

pyspark = pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = local_spark(cores=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return score_with_logs(tmp_path_factory.mktemp("backtest-spark-world"))


def test_spark_gives_the_embedded_backtest_exactly(spark: Any, world: Path) -> None:
    pack = load_pack(DEFAULT_PACK)
    labels = read_labels(world / "labels.jsonl")
    logs = world / "logs"
    logged = read_logs(logs).collect()
    since = logged["ts"].sort()[logged.height // 3]
    runs = [
        (pack_rules(pack), {"labels": labels, "pseudonymize_ip": demo_ip()}),
        ([expression_rule("features.device_signups_30d >= 2", pack.catalogue)], {"since": since}),
    ]
    for rules, options in runs:
        embedded = backtest(logs, rules, **options)
        on_spark = backtest_spark(spark, logs, rules, **options)
        assert (on_spark.engine, embedded.engine) == ("spark", "duckdb")
        assert on_spark.events == embedded.events > 0
        assert on_spark.rows == embedded.rows
        assert sum(r.hits for r in embedded.rows if r.scope_kind == "all") > 0


def test_both_dialects_agree_on_the_rule_compilers_corner_cases(spark: Any) -> None:
    lists = ListStore(LISTS)
    frame = _frame(CORNER_TABLE).with_row_index("_i")
    connection = duckdb.connect()
    connection.register("t", frame.to_arrow())
    names = list(CATALOGUE)
    schema = ", ".join(f"{SPARK.identifier(n)} {SQL_TYPES[CATALOGUE[n]]}" for n in names)
    spark.createDataFrame(
        [(i, *(row.get(n) for n in names)) for i, row in enumerate(CORNER_TABLE)],
        schema=f"_i BIGINT, {schema}",
    ).createOrReplaceTempView("t")
    for source in CORNER_CASES:
        compiled = compile_expression(source, CATALOGUE, lists=lists)
        expected = [compiled(row) for row in CORNER_TABLE]
        in_duckdb = connection.sql(
            f"SELECT {compile_sql(compiled.tree, lists=lists, dialect=DUCKDB)} FROM t ORDER BY _i"
        ).fetchall()
        in_spark = spark.sql(
            f"SELECT {compile_sql(compiled.tree, lists=lists, dialect=SPARK)} FROM t ORDER BY _i"
        ).collect()
        assert [v for (v,) in in_duckdb] == expected, source
        assert [row[0] for row in in_spark] == expected, source
