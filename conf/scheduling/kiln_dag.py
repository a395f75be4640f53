"""Kiln on Airflow: preprocess -> tokenize -> pretrain with SparkSubmitOperator, on a Spark standalone cluster.

Copy into your DAGs folder and set KILN_JAR and the /data paths. The operators submit kiln.jar directly (Airflow's
spark_default connection names the master, e.g. spark://spark-master:7077, with deploy-mode cluster); the job
classes and arguments are the ones bin/kiln passes, and the build checks they parse (SchedulingExamplesTest).

What Kiln gives a scheduler here:
- Every stage is incremental and idempotent: with nothing new it writes nothing and exits 0, so retries and
  backfills are harmless.
- One run per output at a time (<output>.lock; a held lock exits 6). max_active_runs=1 keeps Airflow from trying.
- Exit codes: 0 ok, 2 bad config, 4 missing input, 5 bad input, 6 lock held, 7 worth a retry (I/O, Spark).
  In cluster deploy mode Airflow polls the driver and succeeds only on FINISHED; the job's exact exit code is in
  <output>/status.json (preprocess, tokenize).
- Pre-training continues its own checkpoints (kiln.train.resume=auto) and refuses an output of a different run.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

KILN_JAR = "/opt/kiln/pipeline-jobs/target/kiln.jar"
# The driver a standalone worker starts gets no --add-opens on Java 17: pass the list bin/kiln passes.
JAVA17_OPENS = " ".join(
    "--add-opens=java.base/" + p + "=ALL-UNNAMED"
    for p in ["java.lang", "java.lang.invoke", "java.lang.reflect", "java.io", "java.net", "java.nio", "java.util",
              "java.util.concurrent", "java.util.concurrent.atomic", "jdk.internal.ref", "sun.nio.ch", "sun.nio.cs",
              "sun.security.action", "sun.util.calendar"]
) + " -Djdk.reflect.useDirectMethodHandle=false"
SPARK_CONF = {
    "spark.driver.extraJavaOptions": JAVA17_OPENS,
    "spark.executorEnv.OMP_NUM_THREADS": "1",
}

with DAG(
    dag_id="kiln_pipeline",
    start_date=datetime(2026, 12, 1),
    schedule="@hourly",
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
) as dag:
    preprocess = SparkSubmitOperator(
        task_id="preprocess",
        application=KILN_JAR,
        java_class="dev.kiln.jobs.PreprocessJob",
        name="kiln preprocess",
        driver_memory="2g",
        conf=SPARK_CONF,
        application_args=["--conf", "/opt/kiln/conf/cluster.conf",
                          "-Dkiln.preprocess.input.paths=/data/incoming/*.jsonl",
                          "-Dkiln.preprocess.output.path=/data/preprocessed"],
    )
    tokenize = SparkSubmitOperator(
        task_id="tokenize",
        application=KILN_JAR,
        java_class="dev.kiln.jobs.TokenizeJob",
        name="kiln tokenize",
        driver_memory="2g",
        conf=SPARK_CONF,
        application_args=["--conf", "/opt/kiln/conf/cluster.conf",
                          "-Dkiln.tokenize.input=/data/preprocessed",
                          "-Dkiln.tokenize.output=/data/tokenized"],
    )
    pretrain = SparkSubmitOperator(
        task_id="pretrain",
        application=KILN_JAR,
        java_class="dev.kiln.jobs.PretrainJob",
        name="kiln pretrain",
        driver_memory="2g",
        conf=SPARK_CONF,
        application_args=["--conf", "/opt/kiln/conf/cluster.conf",
                          "-Dkiln.train.shards=/data/tokenized",
                          "-Dkiln.train.output=/data/pretrain",
                          "-Dkiln.train.resume=auto"],
    )
    preprocess >> tokenize >> pretrain
