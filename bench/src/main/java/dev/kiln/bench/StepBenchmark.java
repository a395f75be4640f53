package dev.kiln.bench;

import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.model.ReferenceLayers;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Where a training step's time goes: median milliseconds per optimizer step (forward, backward, AdamW update) of
 * model variants in one JVM on one ND4J thread, interleaved round by round so machine load affects them alike.
 * The variants differ in one thing each: the LM head's implementation (Kiln's fused head vs DL4J's RnnOutputLayer),
 * the vocabulary (the head's size) and the number of blocks.
 *
 * <pre>bench/run StepBenchmark [rounds=5] [stepsPerRound=5] [model=S|M]
 * bench/run StepBenchmark drift [steps=100] [model=S|M]   (Kiln's model: thread CPU ms per step, per 10-step window)</pre>
 * The drift mode measures this thread's CPU time, which other processes on the machine barely change: a step that
 * gets slower as training goes on (a leak, workspace spills) shows there even on a loaded machine. It is also the
 * mode to attach a native profiler to (one model, one thread, nothing else running), e.g.
 * {@code perf record -F 499 -g -p <pid> -- sleep 30}.
 */
public final class StepBenchmark {
    record Variant(String name, GptConfig shape, boolean fusedHead, GptModel.Trunk trunk, int batch) {
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("drift")) {
            drift(args.length > 1 ? Integer.parseInt(args[1]) : 100, args.length > 2 ? args[2] : "S");
            return;
        }
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        String model = args.length > 2 ? args[2] : "S";
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.factory().blas().setMaxThreads(1);

        // S: vocab 8192, context 128, d 128, 2 layers, 4 heads, batch 16. M: context 256, d 256, 4 layers, batch 8.
        boolean m = model.equals("M");
        int t = m ? 256 : 128, d = m ? 256 : 128, layers = m ? 4 : 2, batch = m ? 8 : 16;
        boolean fused = true;
        GptModel.Trunk hand = GptModel.Trunk.HAND_WRITTEN;
        List<Variant> variants = List.of(
                new Variant("Kiln (fused head, hand-written blocks)", new GptConfig(8192, t, d, layers, 4, 4), fused, hand, batch),
                new Variant("fused head, SameDiff blocks", new GptConfig(8192, t, d, layers, 4, 4), fused, ReferenceLayers.SAMEDIFF_TRUNK, batch),
                new Variant("DL4J head, SameDiff blocks (before)", new GptConfig(8192, t, d, layers, 4, 4), false,
                        ReferenceLayers.SAMEDIFF_TRUNK, batch),
                new Variant("Kiln, vocab 512", new GptConfig(512, t, d, layers, 4, 4), fused, hand, batch),
                new Variant("Kiln, 1 block", new GptConfig(8192, t, d, 1, 4, 4), fused, hand, batch),
                new Variant("Kiln, vocab 512, 1 block", new GptConfig(512, t, d, 1, 4, 4), fused, hand, batch));
        List<ComputationGraph> graphs = new ArrayList<>();
        List<DataSet> data = new ArrayList<>();
        for (Variant v : variants) {
            ComputationGraph g = new ComputationGraph(GptModel.configuration(v.shape(), new Adam(1e-3), 0.0, 1, DataType.FLOAT,
                    GptModel.HEAD, v.fusedHead() ? GptModel.lmHead(v.shape()) : ReferenceLayers.dl4jHead(v.shape()), v.trunk()));
            g.init();
            graphs.add(g);
            data.add(GptModel.dataSet(randomRows(v.batch(), t, v.shape().vocabSize(), 3), DataType.FLOAT));
        }
        double[][] ms = new double[variants.size()][rounds];
        double[][] cpuMs = new double[variants.size()][rounds];
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        for (int i = 0; i < variants.size(); i++) {
            for (int w = 0; w < 3; w++) {
                graphs.get(i).fit(data.get(i)); // warm-up: JIT, workspaces
            }
        }
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < variants.size(); i++) {
                long start = System.nanoTime();
                long startCpu = cpu.getCurrentThreadCpuTime();
                for (int s = 0; s < steps; s++) {
                    graphs.get(i).fit(data.get(i));
                }
                ms[i][r] = (System.nanoTime() - start) / 1e6 / steps;
                cpuMs[i][r] = (cpu.getCurrentThreadCpuTime() - startCpu) / 1e6 / steps;
            }
        }
        System.out.printf(Locale.ROOT, "model %s (context %d, d %d, %d layers, batch %d), 1 thread, %d rounds x %d steps%n",
                model, t, d, layers, batch, rounds, steps);
        // CPU ms: this thread's CPU time (one ND4J thread runs every op in the calling thread), which load from other
        // processes barely changes; wall ms is what a user waits on a quiet machine.
        System.out.printf(Locale.ROOT, "%-40s %10s %10s %14s%n", "variant", "wall ms", "CPU ms", "tokens/CPU-s");
        for (int i = 0; i < variants.size(); i++) {
            double median = median(ms[i]);
            double medianCpu = median(cpuMs[i]);
            System.out.printf(Locale.ROOT, "%-40s %10.1f %10.1f %14.0f%n", variants.get(i).name(), median, medianCpu,
                    variants.get(i).batch() * (double) t / (medianCpu / 1000));
        }
    }

    static void drift(int steps, String model) {
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.factory().blas().setMaxThreads(1);
        boolean m = model.equals("M");
        int t = m ? 256 : 128, batch = m ? 8 : 16;
        GptConfig shape = m ? new GptConfig(8192, t, 256, 4, 4, 4) : new GptConfig(8192, t, 128, 2, 4, 4);
        ComputationGraph g = GptModel.build(shape, new Adam(1e-3), 0.1, 1, DataType.FLOAT);
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        Random r = new Random(5);
        long windowCpu = cpu.getCurrentThreadCpuTime();
        long windowWall = System.nanoTime();
        for (int step = 1; step <= steps; step++) {
            g.fit(GptModel.dataSet(randomRows(batch, t, 8192, r.nextLong()), DataType.FLOAT));
            if (step % 10 == 0) {
                long nowCpu = cpu.getCurrentThreadCpuTime();
                long nowWall = System.nanoTime();
                System.out.printf(Locale.ROOT, "steps %4d-%4d: %7.1f ms CPU per step, %7.1f ms wall, loss %.3f%n", step - 9, step,
                        (nowCpu - windowCpu) / 1e7, (nowWall - windowWall) / 1e7, g.score() / t);
                windowCpu = nowCpu;
                windowWall = nowWall;
            }
        }
    }

    static int[][] randomRows(int batch, int t, int vocab, long seed) {
        Random r = new Random(seed);
        int[][] rows = new int[batch][t + 1];
        for (int[] row : rows) {
            for (int j = 0; j <= t; j++) {
                row[j] = r.nextInt(vocab);
            }
        }
        return rows;
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
