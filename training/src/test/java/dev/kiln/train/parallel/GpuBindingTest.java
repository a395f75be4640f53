package dev.kiln.train.parallel;

import dev.kiln.testing.LocalSpark;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GpuBindingTest {
    @Test
    void readsTheFirstAssignedAddress() {
        assertEquals(3, GpuBinding.assignedDevice(Map.of("gpu", new ResourceInformation("gpu", new String[]{"3"}))));
        assertEquals(-1, GpuBinding.assignedDevice(Map.of()));
        assertEquals(-1, GpuBinding.assignedDevice(Map.of("gpu", new ResourceInformation("gpu", new String[0]))));
        assertThrows(IllegalStateException.class, () -> GpuBinding.assignedDevice(
                Map.of("gpu", new ResourceInformation("gpu", new String[]{"GPU-8f2c"}))));
    }

    @Test
    void isANoOpInCpuTasksAndOutsideSpark() {
        assertEquals(-1, GpuBinding.bindToAssignedGpu());
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(LocalSpark.get().sparkContext());
        List<Integer> bound = sc.parallelize(List.of(0, 1), 2).map(i -> GpuBinding.bindToAssignedGpu()).collect();
        assertEquals(List.of(-1, -1), bound);
    }
}
