"""The national ranking on Apache Spark (issue 6 §4): the same steps as serving/population.py, run by
Spark instead of a single process, with the project's own code inside pandas UDFs (no second
implementation of validation, features, model or rules).

1. score: families and members are read from Parquet (files or partitioned folders, no sort order
   needed), both are bucketed by a hash of family_id, and each bucket's families with their members
   go through serving.population_scoring.score_chunk (= models.ranking.rank_families: validation,
   model, exclusion rules) in `groupBy(bucket).cogroup(...).applyInPandas`. The PMT model is
   shipped to the executors inside the UDF closure (cloudpickle; the model holds a LightGBM booster
   of a few MB).
2. cut points: the welfare and people of the scored families (16 bytes per family: 1.5 GB for 93 M)
   are collected to the driver as Arrow and models.cut_points.weighted_cut_points gives the exact
   national cut points, identical to the single-machine ones (ties have equal welfare, so row order
   does not matter).
3. finish: serving.population_scoring.finish_ranking in `mapInPandas` assigns desil, P(desil <= 4/5)
   and programs; rejected rows keep their errors.

Requirements: pyspark (the `spark` extra), Java 17+, and the project installed on every executor
(its packages features/, models/, config/, serving/, data/ must be importable by the Python workers).

Local (tests, one machine): `rank_population_spark(local_spark_session("local[2]"), ...)`.

Cluster (YARN / Kubernetes / standalone), with the project and its dependencies packed into a
relocatable environment (e.g. `venv-pack` or `conda-pack` of a venv where `pip install .[spark]` ran):

    spark-submit --master yarn --deploy-mode cluster \\
      --archives desil_env.tar.gz#env \\
      --conf spark.pyspark.python=./env/bin/python \\
      --conf spark.sql.shuffle.partitions=2000 \\
      --conf spark.executorEnv.MLFLOW_TRACKING_URI=http://mlflow:5000 \\
      --conf spark.yarn.appMasterEnv.MLFLOW_TRACKING_URI=http://mlflow:5000 \\
      --driver-memory 8g --executor-memory 6g --executor-cores 4 --num-executors 50 \\
      serving/spark_ranking.py --families hdfs:///dtsen/2025q1/families \\
        --members hdfs:///dtsen/2025q1/members --model models:/desil-pmt@champion \\
        --out hdfs:///dtsen/2025q1/ranking --buckets 2000

The driver needs about 2 GB beyond its default for the cut-point arrays at 93 M families. The
outputs are Parquet folders `ranking/` (one row per scored family, serving.population_scoring.
ranking_columns()) and `rejects/` (source, family_id, province_code, people, errors), plus
`cut_points.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from models.cut_points import N_DESIL, weighted_cut_points
from models.pmt import PMTModel
from models.programs import programs
from serving.population_scoring import (
    RANKING_VALUE_COLUMNS,
    SCORED_COLUMNS,
    SCORED_SCHEMA,
    finish_ranking,
    ranking_columns,
    rejected_rows,
    score_chunk,
)

BUCKET = "_bucket"
DEFAULT_FAMILIES_PER_BUCKET = 50_000

_ARROW_TO_SPARK = {"string": T.StringType(), "int32": T.IntegerType(), "double": T.DoubleType(),
                   "int8": T.ByteType(), "bool": T.BooleanType()}
_RANKING_TYPES = {"family_id": "string", "province_code": "string", "regency_code": "string", "people": "int32",
                  "desil": "int8", "exclusion_rule": "string", "programs": "string"}


def scored_spark_schema() -> T.StructType:
    """Spark schema of score_chunk's rows (serving.population_scoring.SCORED_SCHEMA)."""
    return T.StructType([T.StructField(f.name, _ARROW_TO_SPARK[str(f.type)], True) for f in SCORED_SCHEMA])


def ranking_spark_schema() -> T.StructType:
    """Spark schema of finish_ranking's rows."""
    fields = [T.StructField(c, _ARROW_TO_SPARK[_RANKING_TYPES.get(c, "double")], True) for c in RANKING_VALUE_COLUMNS]
    fields += [T.StructField(c, T.BooleanType(), True) for c in ranking_columns()[len(RANKING_VALUE_COLUMNS):]]
    return T.StructType(fields)


REJECT_SPARK_SCHEMA = T.StructType([T.StructField("source", T.StringType()), T.StructField("family_id", T.StringType()),
                                    T.StructField("province_code", T.StringType()),
                                    T.StructField("people", T.IntegerType()), T.StructField("errors", T.StringType())])


def local_spark_session(master: str = "local[2]", shuffle_partitions: int = 4,
                        app_name: str = "desil-rank-population") -> SparkSession:
    """A local-mode session whose Python workers run this interpreter (tests, one machine)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    return (SparkSession.builder.master(master).appName(app_name)
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            .config("spark.default.parallelism", str(shuffle_partitions))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.pyspark.python", sys.executable)
            .getOrCreate())


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Object-backed text columns for Spark's Arrow serializer (pandas 3 string dtypes -> object)."""
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.StringDtype) or out[col].dtype == object:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


@dataclass
class SparkRanking:
    """Spark DataFrames of the result (lazily computed) and the national cut points."""

    ranking: DataFrame
    rejects: DataFrame
    cut_points: np.ndarray
    scored_families: int


def score_spark(spark: SparkSession, families: str, members: str, model: PMTModel,
                buckets: int | None = None) -> DataFrame:
    """Step 1: scored rows (score_chunk schema) of every family and orphan member, as a Spark DataFrame."""
    fam = spark.read.parquet(str(families))
    mem = spark.read.parquet(str(members))
    if buckets is None:
        buckets = max(1, -(-fam.count() // DEFAULT_FAMILIES_PER_BUCKET))
    key = F.pmod(F.xxhash64(F.col("family_id")), F.lit(int(buckets)))
    fam = fam.withColumn(BUCKET, key)
    mem = mem.withColumn(BUCKET, key)

    def score_bucket(families_pdf: pd.DataFrame, members_pdf: pd.DataFrame) -> pd.DataFrame:
        rows = score_chunk(model, families_pdf.drop(columns=[BUCKET]), members_pdf.drop(columns=[BUCKET]))
        return _plain(rows.reindex(columns=list(SCORED_COLUMNS)))

    return fam.groupBy(BUCKET).cogroup(mem.groupBy(BUCKET)).applyInPandas(score_bucket, scored_spark_schema())


def spark_cut_points(scored: DataFrame) -> tuple[np.ndarray, int]:
    """Step 2: exact national cut points from the scored families' welfare and people (collected)."""
    ok = scored.filter(F.col("error").isNull() & (F.col("source") == "families"))
    pdf = ok.select("welfare", "people").toPandas()
    if pdf.empty:
        raise RuntimeError("no family was scored: every input row was rejected")
    cuts = weighted_cut_points(pdf["welfare"].to_numpy(dtype=np.float64), pdf["people"].to_numpy(dtype=np.int64),
                               N_DESIL)
    return cuts, len(pdf)


def rank_population_spark(spark: SparkSession, families: str | Path, members: str | Path, model: PMTModel,
                          buckets: int | None = None) -> SparkRanking:
    """Score, compute national cut points and finish the ranking on Spark (module docstring)."""
    scored = score_spark(spark, str(families), str(members), model, buckets).persist()
    cuts, n = spark_cut_points(scored)
    cut_list = [float(c) for c in cuts]

    def finish(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield _plain(finish_ranking(batch, np.asarray(cut_list)))

    def rejects(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield _plain(rejected_rows(batch))

    return SparkRanking(ranking=scored.mapInPandas(finish, ranking_spark_schema()),
                        rejects=scored.mapInPandas(rejects, REJECT_SPARK_SCHEMA),
                        cut_points=cuts, scored_families=n)


def write_spark_ranking(result: SparkRanking, out: str) -> None:
    """Write ranking/ and rejects/ Parquet folders and cut_points.json under `out` (overwrites)."""
    result.ranking.write.mode("overwrite").parquet(f"{out}/ranking")
    result.rejects.write.mode("overwrite").parquet(f"{out}/rejects")
    text = json.dumps({"cut_points_welfare": [float(c) for c in result.cut_points],
                       "scored_families": result.scored_families,
                       "programs": [p.name for p in programs()]}, indent=1)
    if "://" in out and not out.startswith("file://"):
        spark = SparkSession.getActiveSession()
        spark.sparkContext.parallelize([text], 1).saveAsTextFile(f"{out}/cut_points.json")
    else:
        Path(out.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        Path(out.removeprefix("file://"), "cut_points.json").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """spark-submit entry point (module docstring)."""
    parser = argparse.ArgumentParser(description="National desil ranking on Spark")
    parser.add_argument("--families", required=True)
    parser.add_argument("--members", required=True)
    parser.add_argument("--model", default="models:/desil-pmt@champion")
    parser.add_argument("--out", required=True)
    parser.add_argument("--buckets", type=int, default=None, help="hash buckets (default: families / 50,000)")
    parser.add_argument("--tracking-uri", default=None)
    args = parser.parse_args(argv)
    from serving.population_mlflow import load_pmt, use_tracking

    use_tracking(args.tracking_uri)
    loaded = load_pmt(args.model)
    spark = SparkSession.builder.appName("desil-rank-population").getOrCreate()
    result = rank_population_spark(spark, args.families, args.members, loaded.model, args.buckets)
    write_spark_ranking(result, args.out)
    print(f"model {loaded.name} v{loaded.version}; {result.scored_families:,} families scored; "
          f"cut points {[round(float(c), 4) for c in result.cut_points]}")


if __name__ == "__main__":
    main()
