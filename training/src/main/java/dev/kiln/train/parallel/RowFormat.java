package dev.kiln.train.parallel;

import dev.kiln.model.ClassifierModel;
import dev.kiln.model.GptModel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;

import java.io.Serializable;

/**
 * What the int rows of a {@link dev.kiln.train.data.BatchSource} mean to a {@link Replica}: how a minibatch becomes a
 * DL4J DataSet, and how many loss terms a row contributes (DL4J's score sums them per row; clipping and the logged
 * loss are per term). The same engine trains a language model and a classifier through this one seam.
 */
public interface RowFormat extends Serializable {
    DataSet dataSet(int[][] rows);

    /** Loss terms per row: T predicted tokens for next-token rows, 1 for a classified sequence. */
    int lossTermsPerRow();

    /** Tokens the rows feed the model (for tokens/s). */
    long tokens(int[][] rows);

    /** Rows of T+1 ids: inputs row[0..T), next-token labels row[1..T]. */
    record NextToken(int contextLength) implements RowFormat {
        @Override
        public DataSet dataSet(int[][] rows) {
            return GptModel.dataSet(rows, DataType.FLOAT);
        }

        @Override
        public int lossTermsPerRow() {
            return contextLength;
        }

        @Override
        public long tokens(int[][] rows) {
            return (long) rows.length * contextLength;
        }
    }

    /** Labelled examples, one row each as {@link ClassifierModel#row}: T ids, the length, the class index. */
    record Labelled(int contextLength, int classes) implements RowFormat {
        @Override
        public DataSet dataSet(int[][] rows) {
            return ClassifierModel.dataSet(rows, classes, DataType.FLOAT);
        }

        @Override
        public int lossTermsPerRow() {
            return 1;
        }

        @Override
        public long tokens(int[][] rows) {
            long n = 0;
            for (int[] row : rows) {
                n += row[contextLength];
            }
            return n;
        }
    }
}
