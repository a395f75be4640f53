package dev.kiln.train;

import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Run in a fresh JVM by {@link MemoryModelTest}: builds a GPT of the shape in its arguments (V T C L H B, then
 * {@code recompute} for activation checkpointing and {@code tied} for a tied head), trains 3
 * AdamW steps on random tokens and prints how much resident memory the process gained from just before the model
 * was built to the highest point during the steps ("grown=BYTES").
 */
public final class MemoryProbe {
    public static void main(String[] a) {
        int[] v = Arrays.stream(a).limit(6).mapToInt(Integer::parseInt).toArray();
        List<String> flags = Arrays.asList(a).subList(6, a.length);
        Nd4j.create(1); // loads the backend: its libraries are not the model's memory
        System.gc();
        long before = Pointer.physicalBytes();
        GptConfig shape = new GptConfig(v[0], v[1], v[2], v[3], v[4], 4).withTiedEmbeddings(flags.contains("tied"));
        ComputationGraph model = GptModel.recomputeActivations(
                GptModel.build(shape, new Adam(1e-3), 0.1, 1, DataType.FLOAT), flags.contains("recompute"));
        model.getUpdater();
        int[][] rows = new int[v[5]][v[1] + 1];
        Random r = new Random(1);
        for (int[] row : rows) {
            for (int j = 0; j < row.length; j++) {
                row[j] = r.nextInt(v[0]);
            }
        }
        long peak = 0;
        for (int i = 0; i < 3; i++) {
            model.fit(GptModel.dataSet(rows, DataType.FLOAT));
            peak = Math.max(peak, Pointer.physicalBytes());
        }
        System.out.println("grown=" + (peak - before));
    }
}
