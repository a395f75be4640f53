package dev.kiln.train.checkpoint;

import dev.kiln.model.GptModel;
import dev.kiln.train.parallel.StateChunks;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * A checkpoint's {@code model.zip}, in DL4J {@code ModelSerializer}'s layout ({@code configuration.json}, then
 * {@code coefficients.bin} and {@code updaterState.bin}, each an {@code Nd4j.write} of the flat weight / AdamW state
 * vector: its shape information, then its values as big-endian floats), so every DL4J reader and every earlier Kiln
 * reader still loads it. Written and read as streams, a few MiB at a time straight between the model's off-heap vectors
 * and the file, with the entries stored (zip "deflate" level 0): weights and moments are incompressible floats, and
 * compressing them was what made a 1.6 GB checkpoint take a minute.
 */
final class ModelZip {
    static final String CONFIGURATION = "configuration.json";
    static final String COEFFICIENTS = "coefficients.bin";
    static final String UPDATER = "updaterState.bin";
    /** ND4J's tags in a serialized buffer: its allocation mode and data type names. */
    private static final String MODE = "MIXED_DATA_TYPES";
    /** Values per copy between the off-heap vector and the stream (4 MiB). */
    private static final int BLOCK = 1 << 20;

    private ModelZip() {
    }

    static void write(ComputationGraph model, OutputStream out) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(out);
        zip.setLevel(Deflater.NO_COMPRESSION);
        zip.putNextEntry(new ZipEntry(CONFIGURATION));
        zip.write(model.getConfiguration().toJson().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
        zip.putNextEntry(new ZipEntry(COEFFICIENTS));
        writeArray(model.params(), zip);
        zip.closeEntry();
        INDArray state = model.getUpdater().getStateViewArray();
        if (state != null) {
            zip.putNextEntry(new ZipEntry(UPDATER));
            writeArray(state, zip);
            zip.closeEntry();
        }
        zip.finish();
    }

    /** Exactly {@code Nd4j.write(array, new DataOutputStream(out))}, for a flat float vector, without a heap copy of it. */
    static void writeArray(INDArray flat, OutputStream out) throws IOException {
        if (flat.dataType() != DataType.FLOAT) {
            throw new IOException("can only stream float vectors, got " + flat.dataType());
        }
        DataOutputStream data = new DataOutputStream(out);
        long[] shapeInfo = flat.shapeInfoDataBuffer().asLong();
        data.writeUTF(MODE);
        data.writeLong(shapeInfo.length);
        data.writeUTF(DataType.LONG.name());
        for (long v : shapeInfo) {
            data.writeLong(v);
        }
        long n = flat.length();
        data.writeUTF(MODE);
        data.writeLong(n);
        data.writeUTF(DataType.FLOAT.name());
        ByteBuffer block = ByteBuffer.allocate(Math.toIntExact(Math.min(n, BLOCK) * Float.BYTES)).order(ByteOrder.BIG_ENDIAN);
        for (long from = 0; from < n; from += BLOCK) {
            int len = (int) Math.min(BLOCK, n - from);
            block.clear();
            block.asFloatBuffer().put(StateChunks.copy(flat, from, len));
            data.write(block.array(), 0, len * Float.BYTES);
        }
        data.flush();
    }

    /**
     * The model of a {@code model.zip} whose entries come in ModelSerializer's order with float vectors; null for any
     * other layout (the caller then falls back to ModelSerializer). The weights are read into an uninitialised
     * vector (no random initialisation of a model about to be overwritten), the optimizer state into the updater's.
     */
    static ComputationGraph read(InputStream in) throws IOException {
        ZipInputStream zip = new ZipInputStream(in);
        ZipEntry e = zip.getNextEntry();
        if (e == null || !e.getName().equals(CONFIGURATION)) {
            return null;
        }
        String json = new String(zip.readAllBytes(), StandardCharsets.UTF_8);
        e = zip.getNextEntry();
        if (e == null || !e.getName().equals(COEFFICIENTS)) {
            return null;
        }
        DataInputStream data = new DataInputStream(zip);
        long[] shape = readShape(data);
        if (shape == null) {
            return null;
        }
        INDArray params = Nd4j.createUninitialized(DataType.FLOAT, shape);
        readValues(data, params);
        ComputationGraph model = new ComputationGraph(ComputationGraphConfiguration.fromJson(json));
        model.init(params, false);
        GptModel.tie(model);
        e = zip.getNextEntry();
        if (e != null && e.getName().equals(UPDATER)) {
            INDArray state = model.getUpdater().getStateViewArray();
            long[] stateShape = readShape(data);
            if (state == null || stateShape == null || shapeLength(stateShape) != state.length()) {
                return null;
            }
            readValues(data, state);
        }
        return model;
    }

    /** The shape of a serialized float vector, or null when its header is not one. */
    private static long[] readShape(DataInputStream data) throws IOException {
        if (!MODE.equals(data.readUTF())) {
            return null;
        }
        long[] info = new long[Math.toIntExact(data.readLong())];
        if (!DataType.LONG.name().equals(data.readUTF())) {
            return null;
        }
        for (int i = 0; i < info.length; i++) {
            info[i] = data.readLong();
        }
        int rank = (int) info[0];
        if (rank < 1 || rank > 2 || info.length < 1 + 2 * rank) {
            return null;
        }
        long[] shape = Arrays.copyOfRange(info, 1, 1 + rank);
        if (!MODE.equals(data.readUTF()) || data.readLong() != shapeLength(shape) || !DataType.FLOAT.name().equals(data.readUTF())) {
            return null;
        }
        return shape;
    }

    private static long shapeLength(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static void readValues(DataInputStream data, INDArray flat) throws IOException {
        long n = flat.length();
        byte[] bytes = new byte[Math.toIntExact(Math.min(n, BLOCK) * Float.BYTES)];
        float[] values = new float[(int) Math.min(n, BLOCK)];
        for (long from = 0; from < n; from += BLOCK) {
            int len = (int) Math.min(BLOCK, n - from);
            data.readFully(bytes, 0, len * Float.BYTES);
            float[] chunk = len == values.length ? values : new float[len];
            ByteBuffer.wrap(bytes, 0, len * Float.BYTES).order(ByteOrder.BIG_ENDIAN).asFloatBuffer().get(chunk);
            StateChunks.assign(flat, from, chunk);
        }
    }
}
