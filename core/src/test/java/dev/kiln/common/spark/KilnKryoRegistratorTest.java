package dev.kiln.common.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;

import java.io.Serializable;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KilnKryoRegistratorTest {
    /** A record like Kiln's task payloads: final fields, a nested record, a list. */
    record Payload(String shard, long firstRow, List<Inner> parts) implements Serializable {
    }

    record Inner(int index, double nll) implements Serializable {
    }

    private static final Payload PAYLOAD = new Payload("shards/train/run-0001-part-00000.arrow", 128,
            List.of(new Inner(0, 1.5), new Inner(1, 2.25)));

    private static Object roundTrip(SparkConf conf) {
        SerializerInstance kryo = new KryoSerializer(conf).newInstance();
        return kryo.deserialize(kryo.serialize(PAYLOAD, scala.reflect.ClassTag$.MODULE$.apply(Payload.class)),
                scala.reflect.ClassTag$.MODULE$.apply(Payload.class));
    }

    @Test
    void withTheRegistratorKryoRoundTripsRecordsAndWithoutItItCannot() {
        SparkConf plain = new SparkConf(false).set("spark.serializer", KryoSerializer.class.getName());
        assertThrows(RuntimeException.class, () -> roundTrip(plain), "Spark's Kryo 4 cannot serialise a record by itself");

        SparkConf conf = new SparkConf(false).set("spark.serializer", KryoSerializer.class.getName());
        assertTrue(KilnKryoRegistrator.applyTo(conf));
        assertEquals(PAYLOAD, roundTrip(conf));
    }

    @Test
    void appliesOnlyToKryoKeepsTheUsersRegistratorsAndIsIdempotent() {
        SparkConf java = new SparkConf(false);
        assertFalse(KilnKryoRegistrator.applyTo(java));
        assertFalse(java.contains("spark.kryo.registrator"));

        SparkConf conf = new SparkConf(false).set("spark.serializer", KryoSerializer.class.getName())
                .set("spark.kryo.registrator", "com.example.TheirRegistrator");
        assertTrue(KilnKryoRegistrator.applyTo(conf));
        assertEquals("com.example.TheirRegistrator," + KilnKryoRegistrator.class.getName(), conf.get("spark.kryo.registrator"));
        assertFalse(KilnKryoRegistrator.applyTo(conf));
        assertEquals("com.example.TheirRegistrator," + KilnKryoRegistrator.class.getName(), conf.get("spark.kryo.registrator"));
    }
}
