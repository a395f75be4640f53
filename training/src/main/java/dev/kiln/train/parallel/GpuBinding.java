package dev.kiln.train.parallel;

import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Binds ND4J, in the current Spark task thread, to the GPU Spark assigned the task
 * ({@code spark.executor.resource.gpu.amount=1}, {@code spark.task.resource.gpu.amount=1} and a discovery script
 * that lists the executor's GPUs). ND4J's CUDA backend keeps a device per thread, and Spark may run a round on
 * another thread of its pool, so every round binds again before touching the replica. On the CPU backend, or when
 * Spark assigned no GPU, nothing happens.
 */
public final class GpuBinding {
    private static final Logger LOG = LoggerFactory.getLogger(GpuBinding.class);

    private GpuBinding() {
    }

    /** The device index bound, or -1 when none was (no task, no GPU assigned, or a CPU backend). */
    public static int bindToAssignedGpu() {
        TaskContext task = TaskContext.get();
        if (task == null) {
            return -1;
        }
        int device = assignedDevice(task.resourcesJMap());
        if (device < 0) {
            return -1;
        }
        if (Nd4j.getEnvironment().isCPU()) {
            LOG.warn("Spark assigned GPU {} to this task, but ND4J runs its CPU backend: build with -Pcuda", device);
            return -1;
        }
        Nd4j.getAffinityManager().unsafeSetDevice(device);
        return device;
    }

    /** The first address of the task's "gpu" resource as a device index, or -1. */
    static int assignedDevice(Map<String, ResourceInformation> resources) {
        ResourceInformation gpu = resources.get("gpu");
        if (gpu == null || gpu.addresses().length == 0) {
            return -1;
        }
        String address = gpu.addresses()[0].trim();
        try {
            return Integer.parseInt(address);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("GPU address \"" + address + "\" from the discovery script is not a device "
                    + "index; bin/gpu-discovery.sh must print indices such as {\"name\":\"gpu\",\"addresses\":[\"0\"]}");
        }
    }
}
