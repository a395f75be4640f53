package dev.kiln.model;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

/** Base of the model tests that check gradients: ND4J in double precision for the class, restored after. */
public abstract class DoublePrecisionTest {
    private static DataType savedDefault;
    private static DataType savedFloatingDefault;

    @BeforeAll
    static void doublePrecision() {
        savedDefault = Nd4j.dataType();
        savedFloatingDefault = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @AfterAll
    static void restore() {
        Nd4j.setDefaultDataTypes(savedDefault, savedFloatingDefault);
    }

    /** {@code batch} rows of {@code t + 1} random ids below {@code vocab}. */
    public static int[][] randomRows(int batch, int t, int vocab, long seed) {
        Random r = new Random(seed);
        int[][] rows = new int[batch][t + 1];
        for (int[] row : rows) {
            for (int j = 0; j <= t; j++) {
                row[j] = r.nextInt(vocab);
            }
        }
        return rows;
    }
}
