package dev.kiln.common.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoRegistrator;

import java.util.Arrays;

/**
 * Lets Kiln's jobs run with {@code spark.serializer = org.apache.spark.serializer.KryoSerializer}, which many
 * clusters set by default. Kiln's task payloads and results (chunks, counts, statistics) are Java records, and the
 * Kryo 4 that Spark 3.5 ships cannot build its FieldSerializer for a record on Java 17 (a record's fields have no
 * field offset for Kryo's unsafe writes): such a job fails at its first task with "Unable to create serializer
 * FieldSerializer". Registered, this class makes Kryo hand every record (every subclass of {@link Record}) to Java
 * serialization, which records support by design; everything else keeps Kryo's own serializers.
 */
public final class KilnKryoRegistrator implements KryoRegistrator {
    static final String SERIALIZER = "spark.serializer";
    static final String REGISTRATOR = "spark.kryo.registrator";

    @Override
    public void registerClasses(Kryo kryo) {
        kryo.addDefaultSerializer(Record.class, new JavaSerializer());
    }

    /**
     * When {@code conf} selects Kryo, adds this registrator to {@code spark.kryo.registrator} (keeping any the user
     * set); a no-op for Spark's default Java serializer. Returns whether it added it.
     */
    public static boolean applyTo(SparkConf conf) {
        if (!conf.get(SERIALIZER, "").contains("KryoSerializer")) {
            return false;
        }
        String name = KilnKryoRegistrator.class.getName();
        String existing = conf.get(REGISTRATOR, "").trim();
        if (Arrays.asList(existing.split("\\s*,\\s*")).contains(name)) {
            return false;
        }
        conf.set(REGISTRATOR, existing.isEmpty() ? name : existing + "," + name);
        return true;
    }
}
