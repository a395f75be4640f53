package dev.kiln.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.hf.HfExport;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.train.checkpoint.HfImport;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The Hugging Face interop's costs, in one JVM on one ND4J thread.
 * <pre>bench/run HfBenchmark head [rounds=5] [steps=5]   model S training step, tied head vs untied (the fused head's speed)
 * bench/run HfBenchmark gpt2 [repeats=2]              export and import seconds of GPT-2 small's shape (V 50257, T 1024,
 *                                                     d 768, 12 layers, tied: 124.4 M parameters, seeded random weights),
 *                                                     next to transformers' from_pretrained / save_pretrained of the same
 *                                                     folder when bench/pytorch/venv.sh's Python exists</pre>
 */
public final class HfBenchmark {
    private HfBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.factory().blas().setMaxThreads(1);
        String mode = args.length > 0 ? args[0] : "head";
        if (mode.equals("gpt2")) {
            gpt2(args.length > 1 ? Integer.parseInt(args[1]) : 2);
        } else {
            head(args.length > 1 ? Integer.parseInt(args[1]) : 5, args.length > 2 ? Integer.parseInt(args[2]) : 5);
        }
    }

    /** Median ms per training step (forward, backward, AdamW) of model S, tied and untied, interleaved round by round. */
    static void head(int rounds, int steps) {
        GptConfig untied = new GptConfig(8192, 128, 128, 2, 4, 4, false);
        List<GptConfig> shapes = List.of(untied.withTiedEmbeddings(true), untied);
        List<ComputationGraph> graphs = new ArrayList<>();
        List<DataSet> data = new ArrayList<>();
        for (GptConfig s : shapes) {
            graphs.add(GptModel.build(s, new Adam(1e-3), 0.0, 1, DataType.FLOAT));
            data.add(GptModel.dataSet(StepBenchmark.randomRows(16, 128, 8192, 3), DataType.FLOAT));
        }
        for (int i = 0; i < shapes.size(); i++) {
            for (int w = 0; w < 3; w++) {
                graphs.get(i).fit(data.get(i));
            }
        }
        double[][] ms = new double[shapes.size()][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < shapes.size(); i++) {
                long start = System.nanoTime();
                for (int s = 0; s < steps; s++) {
                    graphs.get(i).fit(data.get(i));
                }
                ms[i][r] = (System.nanoTime() - start) / 1e6 / steps;
            }
        }
        for (int i = 0; i < shapes.size(); i++) {
            System.out.printf(Locale.ROOT, "model S, %s head: median %.1f ms/step (rounds %s), %d parameters%n",
                    shapes.get(i).tiedEmbeddings() ? "tied" : "untied", median(ms[i]), Arrays.toString(round(ms[i])),
                    graphs.get(i).numParams());
        }
        System.out.printf(Locale.ROOT, "tied / untied step time: %.3f%n", median(ms[0]) / median(ms[1]));
    }

    static void gpt2(int repeats) throws Exception {
        GptConfig shape = new GptConfig(50257, 1024, 768, 12, 12, 4, true);
        FileSystem fs = FileSystem.getLocal(new Configuration());
        java.nio.file.Path dir = Files.createTempDirectory("kiln-hf-bench");
        long t0 = System.nanoTime();
        ComputationGraph model = GptModel.build(shape, new NoOp(), 0, 1234, DataType.FLOAT);
        System.out.printf(Locale.ROOT, "GPT-2 small shape, tied: %,d parameters (built with seeded random weights in %.1f s)%n",
                model.numParams(), (System.nanoTime() - t0) / 1e9);
        String tokenizer = byteLevelTokenizer(shape.vocabSize());
        Path out = new Path(dir.resolve("export").toString());
        ComputationGraph target = GptModel.build(shape, new NoOp(), 0, 1, DataType.FLOAT);
        for (int r = 0; r < repeats; r++) {
            long t = System.nanoTime();
            HfExport.write(fs, out, model, tokenizer, "<|endoftext|>", shape.vocabSize() - 1, new ObjectMapper().createObjectNode());
            double export = (System.nanoTime() - t) / 1e9;
            t = System.nanoTime();
            HfImport.HfModel m = HfImport.read(fs, out, "bench");
            HfImport.assign(m, target);
            double imp = (System.nanoTime() - t) / 1e9;
            long bytes = fs.getFileStatus(new Path(out, HfExport.WEIGHTS)).getLen();
            System.out.printf(Locale.ROOT, "run %d: export %.2f s (%.0f MB/s), import %.2f s (%.0f MB/s incl. SHA-256, "
                            + "tokenizer check, assign); model.safetensors %,d bytes%n",
                    r + 1, export, bytes / 1e6 / export, imp, bytes / 1e6 / imp, bytes);
        }
        boolean same = Arrays.equals(model.params().toFloatVector(), target.params().toFloatVector());
        System.out.println("imported weights identical to the exported ones: " + same);
        peer(out, dir);
    }

    /** transformers' from_pretrained and save_pretrained of the same folder, when the benchmark Python exists. */
    private static void peer(Path out, java.nio.file.Path dir) throws Exception {
        String python = System.getenv().getOrDefault("KILN_BENCH_PYTHON",
                System.getProperty("user.home") + "/.cache/kiln/bench-venv/bin/python");
        if (!Files.isExecutable(java.nio.file.Path.of(python))) {
            System.out.println("peer: no Python at " + python + " (bench/pytorch/venv.sh makes one)");
            return;
        }
        Process p = new ProcessBuilder(python, "bench/pytorch/hf_io_peer.py", out.toUri().getPath(),
                dir.resolve("peer").toString()).redirectErrorStream(false).start();
        String json = new String(p.getInputStream().readAllBytes()).trim();
        String err = new String(p.getErrorStream().readAllBytes());
        if (p.waitFor() != 0) {
            System.out.println("peer failed: " + err);
            return;
        }
        System.out.println("peer (transformers, same folder, 1 torch thread): " + json);
    }

    /**
     * A valid byte-level BPE tokenizer.json of exactly {@code vocab} tokens (the 256 bytes, two-byte merges, then
     * {@code <|endoftext|>}), so the import's tokenizer check runs at GPT-2's vocabulary size.
     */
    static String byteLevelTokenizer(int vocab) {
        char[] byteChar = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            byteChar[b] = printable ? (char) b : (char) (256 + n++);
        }
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", vocab - 1).put("content", "<|endoftext|>").put("special", true);
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                .put("use_regex", true);
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode v = model.putObject("vocab");
        ArrayNode merges = model.putArray("merges");
        for (int b = 0; b < 256; b++) {
            v.put(String.valueOf(byteChar[b]), b);
        }
        int id = 256;
        for (int a = 0; a < 256 && id < vocab - 1; a++) {
            for (int b = 0; b < 256 && id < vocab - 1; b++, id++) {
                v.put("" + byteChar[a] + byteChar[b], id);
                merges.add(byteChar[a] + " " + byteChar[b]);
            }
        }
        v.put("<|endoftext|>", vocab - 1);
        return root.toString();
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double[] round(double[] a) {
        return Arrays.stream(a).map(x -> Math.round(x * 10) / 10.0).toArray();
    }
}
