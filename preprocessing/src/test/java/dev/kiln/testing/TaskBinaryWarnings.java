package dev.kiln.testing;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Spark's "Broadcasting large task binary with size N" warnings (logged by the DAGScheduler when a stage's serialized
 * closure is over 1 MiB) while a piece of a test runs: a model, tokenizer or data set captured in a task's closure
 * shows up here.
 */
public final class TaskBinaryWarnings {
    private TaskBinaryWarnings() {
    }

    /** Work that may throw. */
    @FunctionalInterface
    public interface Work {
        void run() throws Exception;
    }

    /** The warnings logged while {@code work} ran (empty when every task binary stayed under 1 MiB). */
    public static List<String> during(Work work) throws Exception {
        List<String> warnings = new CopyOnWriteArrayList<>();
        AbstractAppender capture = new AbstractAppender("task-binary-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                String m = event.getMessage().getFormattedMessage();
                if (m.contains("Broadcasting large task binary")) {
                    warnings.add(m);
                }
            }
        };
        capture.start();
        Logger dag = (Logger) LogManager.getLogger("org.apache.spark.scheduler.DAGScheduler");
        dag.addAppender(capture);
        try {
            work.run();
        } finally {
            dag.removeAppender(capture);
            capture.stop();
        }
        return List.copyOf(warnings);
    }
}
