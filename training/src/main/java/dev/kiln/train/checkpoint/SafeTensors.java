package dev.kiln.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The safetensors format (Hugging Face's weights file), F32 only: an 8-byte little-endian header length, a JSON header
 * mapping each tensor name to {@code dtype}, {@code shape} and {@code data_offsets} [begin, end) into the data
 * section (plus {@code __metadata__}, a map of strings), padded with spaces to a multiple of 8 bytes, then the raw
 * little-endian data. The writer streams one tensor at a time; the reader reads the tensors it is asked for.
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String METADATA = "__metadata__";
    /** Bytes per float32 value. */
    private static final int F32 = 4;
    /** The largest header the reader accepts (the format's reference implementation allows 100 MB). */
    private static final long MAX_HEADER = 100L << 20;

    private SafeTensors() {
    }

    /** A tensor to write: its values (row-major, {@code product(shape)} floats) are made only when written. */
    public record Tensor(String name, long[] shape, Supplier<float[]> values) {
        long length() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** A tensor's entry in a header. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        public long length() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Writes the tensors, in order, with the metadata (strings only, as the format requires). */
    public static void write(OutputStream out, List<Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject(METADATA);
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", "F32");
            e.putArray("shape").addAll(Arrays.stream(t.shape()).mapToObj(JSON.getNodeFactory()::numberNode).toList());
            e.putArray("data_offsets").add(offset).add(offset + t.length() * F32);
            offset += t.length() * F32;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded).put(json);
        while (prefix.hasRemaining()) {
            prefix.put((byte) ' ');
        }
        out.write(prefix.array());
        ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (Tensor t : tensors) {
            float[] v = t.values().get();
            if (v.length != t.length()) {
                throw new IllegalArgumentException("tensor " + t.name() + " has " + v.length + " values, its shape "
                        + Arrays.toString(t.shape()) + " needs " + t.length());
            }
            FloatBuffer floats = chunk.asFloatBuffer();                            // little-endian view
            for (int from = 0; from < v.length; from += floats.capacity()) {
                int n = Math.min(floats.capacity(), v.length - from);
                floats.clear();
                floats.put(v, from, n);                                                     // bulk: no per-float call
                out.write(chunk.array(), 0, n * F32);
            }
        }
    }

    /** An open file: its header, and each tensor's values on request (in file order, each once). */
    public static final class Reader implements AutoCloseable {
        private final DataInputStream in;
        private final String file;
        private final Map<String, Entry> entries = new LinkedHashMap<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();
        private long position; // bytes of the data section consumed

        public Reader(InputStream stream, String file) throws IOException {
            this.in = new DataInputStream(stream);
            this.file = file;
            byte[] lengthBytes = in.readNBytes(8);
            if (lengthBytes.length < 8) {
                throw new IOException(file + " is not a safetensors file: shorter than its 8-byte header length");
            }
            long length = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (length < 2 || length > MAX_HEADER) {
                throw new IOException(file + " is not a safetensors file: header length " + length);
            }
            JsonNode header = JSON.readTree(in.readNBytes((int) length));
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals(METADATA)) {
                    f.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                JsonNode e = f.getValue();
                long[] shape = new long[e.path("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = e.path("shape").get(i).asLong();
                }
                entries.put(f.getKey(), new Entry(f.getKey(), e.path("dtype").asText(), shape,
                        e.path("data_offsets").path(0).asLong(), e.path("data_offsets").path(1).asLong()));
            }
        }

        public Map<String, Entry> entries() {
            return entries;
        }

        public Map<String, String> metadata() {
            return metadata;
        }

        /**
         * All tensors' values as float32 (F32 as is; F16 and BF16 widened), in file order. A tensor of another dtype
         * is an error naming the file and the tensor.
         */
        public Map<String, float[]> readAll() throws IOException {
            List<Entry> byOffset = entries.values().stream().sorted(Comparator.comparingLong(Entry::begin)).toList();
            Map<String, float[]> out = new LinkedHashMap<>();
            for (Entry e : byOffset) {
                out.put(e.name(), read(e));
            }
            return out;
        }

        private float[] read(Entry e) throws IOException {
            int width = switch (e.dtype()) {
                case "F32" -> 4;
                case "F16", "BF16" -> 2;
                default -> throw new IOException(file + ": tensor " + e.name() + " has dtype " + e.dtype()
                        + "; Kiln reads F32, F16 and BF16");
            };
            if (e.end() - e.begin() != e.length() * width || e.begin() < position) {
                throw new IOException(file + ": tensor " + e.name() + " has data_offsets [" + e.begin() + ", " + e.end()
                        + ") that do not fit its shape " + Arrays.toString(e.shape()) + " of " + e.dtype());
            }
            in.skipNBytes(e.begin() - position);
            byte[] raw = in.readNBytes(Math.toIntExact(e.end() - e.begin()));
            if (raw.length != e.end() - e.begin()) {
                throw new IOException(file + " ends inside tensor " + e.name());
            }
            position = e.end();
            ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[Math.toIntExact(e.length())];
            if (e.dtype().equals("F32")) {
                b.asFloatBuffer().get(v);                                                   // bulk little-endian read
                return v;
            }
            for (int i = 0; i < v.length; i++) {
                v[i] = switch (e.dtype()) {
                    case "F32" -> b.getFloat();
                    case "BF16" -> Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
                    default -> halfToFloat(b.getShort());
                };
            }
            return v;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short h) {
        int sign = (h & 0x8000) << 16, exponent = (h >>> 10) & 0x1f, mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));              // inf, NaN
        }
        if (exponent == 0) {
            float value = mantissa * 0x1p-24f;                                              // zero, subnormal
            return sign == 0 ? value : -value;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
