"""When is a day's rate (a rule's hits per decision, an action's share) out of its band?

Two conditions, both needed:

- **Practically different**: the day's rate is outside ``[reference / k, reference × k]``
  (``k`` = ``factor``, default 3). A rule at 0.1 % that reaches 0.25 % is not news.
- **Not noise**: the exact conditional test for two Poisson rates rejects "same rate" at
  ``alpha`` (default 0.001). Given ``h`` hits in total over the day and the reference, the day's
  share of them is Binomial(h, n_day / (n_day + n_reference)) when the rate did not change; the
  two-sided p-value doubles the smaller tail. Unlike a fixed floor it scales with the day's
  volume, and unlike a test against the reference rate taken as exact it allows for the
  reference being itself a sample (a rule seen 3 times in the reference proves little).

and a floor so that rare rules do not flap: the larger of the day's hits and the hits the
reference rate predicts must reach ``min_count`` (default 10). A rule that stops firing is out of
band too (its day rate is below ``reference / k``), as is one never seen in the reference that
starts firing (the band is [0, 0]).

>>> import polars as pl
>>> table = pl.DataFrame({"subject": ["rule:a"] * 3, "hits": [20, 22, 200],
...                       "total": [1000, 1000, 1000], "reference": [True, False, False]})
>>> out = rate_bands(table, factor=3.0, alpha=1e-3, min_count=10)
>>> out.select("hits", "reference_rate", "high", "out_of_band").rows()
[(22, 0.02, 0.06, False), (200, 0.02, 0.06, True)]
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import polars as pl
from scipy.stats import binom

FACTOR: Final = 3.0
ALPHA: Final = 1e-3
MIN_COUNT: Final = 10


def conditional_p_value(hits: Any, total: Any, reference_hits: Any, reference_total: Any) -> Any:
    """Two-sided p-value that the day's rate equals the reference's (arrays in, array out).

    >>> conditional_p_value(np.array([10, 100]), 1000, np.array([10, 10]), 1000).round(6)
    array([1., 0.])
    """
    hits = np.asarray(hits, dtype=np.int64)
    both = hits + np.asarray(reference_hits, dtype=np.int64)
    day_total = np.asarray(total, dtype=np.float64)
    volume = day_total + np.asarray(reference_total, dtype=np.float64)
    share = np.divide(day_total, volume, out=np.zeros_like(volume), where=volume > 0)
    upper = binom.sf(hits - 1, both, share)  # P(X >= hits)
    lower = binom.cdf(hits, both, share)  # P(X <= hits)
    return np.minimum(1.0, 2.0 * np.minimum(upper, lower))


def rate_bands(
    table: pl.DataFrame,
    *,
    factor: float = FACTOR,
    alpha: float = ALPHA,
    min_count: int = MIN_COUNT,
) -> pl.DataFrame:
    """The monitored rows of ``table`` with their band, p-value and whether they are out of band.

    ``table`` has one row per day and subject: ``subject``, ``hits``, ``total`` (the day's
    decisions the rate is over), ``reference`` (whether the day is in the reference window) and
    any other columns, which are kept. Subjects are compared with their summed reference, so
    the table must hold every subject on every day (zero hits included).
    Reference rows are not returned; subjects with no reference volume are never out of band.
    """
    reference = (
        table.filter(pl.col("reference"))
        .group_by("subject")
        .agg(pl.col("hits").sum().alias("reference_hits"), pl.col("total").sum().alias("_rt"))
    )
    monitored = table.filter(~pl.col("reference")).join(reference, on="subject", how="left")
    monitored = monitored.with_columns(
        pl.col("reference_hits").fill_null(0), pl.col("_rt").fill_null(0)
    ).rename({"_rt": "reference_total"})
    if monitored.is_empty():
        return monitored.with_columns(
            reference_rate=pl.lit(None, pl.Float64),
            rate=pl.lit(None, pl.Float64),
            low=pl.lit(None, pl.Float64),
            high=pl.lit(None, pl.Float64),
            p_value=pl.lit(None, pl.Float64),
            out_of_band=pl.lit(None, pl.Boolean),
        )
    p_value = conditional_p_value(
        monitored["hits"].to_numpy(),
        monitored["total"].to_numpy(),
        monitored["reference_hits"].to_numpy(),
        monitored["reference_total"].to_numpy(),
    )
    reference_rate = pl.col("reference_hits") / pl.col("reference_total")
    rate = pl.col("hits") / pl.col("total")
    expected = pl.col("reference_rate") * pl.col("total")
    return (
        monitored.with_columns(
            reference_rate=pl.when(pl.col("reference_total") > 0).then(reference_rate),
            rate=pl.when(pl.col("total") > 0).then(rate).otherwise(0.0),
            p_value=pl.Series(p_value, dtype=pl.Float64),
        )
        .with_columns(
            low=pl.col("reference_rate") / factor,
            high=pl.col("reference_rate") * factor,
        )
        .with_columns(
            out_of_band=(
                pl.col("reference_rate").is_not_null()
                & (pl.col("total") > 0)
                & ((pl.col("rate") > pl.col("high")) | (pl.col("rate") < pl.col("low")))
                & (pl.col("p_value") < alpha)
                & (pl.max_horizontal(pl.col("hits").cast(pl.Float64), expected) >= min_count)
            ).fill_null(False)
        )
    )
