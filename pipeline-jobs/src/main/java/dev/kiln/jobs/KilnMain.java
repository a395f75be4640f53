package dev.kiln.jobs;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The jar's main class: {@code spark-submit kiln.jar <stage> [args]} (no {@code --class}) runs the stage's job, as
 * {@code bin/kiln <stage>} does. The table is the same as bin/kiln's {@code job_class} (a test keeps them in sync).
 */
public final class KilnMain {
    /** Stage name -> job class. */
    static final Map<String, String> JOBS = new LinkedHashMap<>();

    static {
        JOBS.put("preprocess", "dev.kiln.jobs.PreprocessJob");
        JOBS.put("tokenize", "dev.kiln.jobs.TokenizeJob");
        JOBS.put("pretrain", "dev.kiln.jobs.PretrainJob");
        JOBS.put("finetune", "dev.kiln.jobs.FinetuneJob");
        JOBS.put("evaluate", "dev.kiln.jobs.EvaluateJob");
        JOBS.put("generate", "dev.kiln.jobs.GenerateJob");
        JOBS.put("cluster-check", "dev.kiln.jobs.ClusterCheckJob");
    }

    private KilnMain() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length == 0 || !JOBS.containsKey(args[0])) {
            System.err.println("usage: spark-submit kiln.jar <stage> [--conf FILE] [-Dkey=value ...]   stages: "
                    + String.join(", ", JOBS.keySet()) + (args.length == 0 ? "" : "; got '" + args[0] + "'"));
            System.exit(2);
        }
        Class<?> job;
        try {
            job = Class.forName(JOBS.get(args[0]));
        } catch (ClassNotFoundException e) {
            System.err.println("kiln: the '" + args[0] + "' stage is not in this build");
            System.exit(3);
            return;
        }
        Method main = job.getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
