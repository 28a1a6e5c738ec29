package io.gpuagent.nvml.ffm;

import static io.gpuagent.nvml.ffm.Native.check;
import static io.gpuagent.nvml.ffm.Native.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;

import io.gpuagent.nvml.GpmMetricValue;
import io.gpuagent.nvml.GpmSample;
import io.gpuagent.nvml.NvmlException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The GPM calls of one device (Hopper and later): support, samples, and metrics between two samples. */
final class FfmGpm {

    private final FfmGpuDevice device;
    private final DeviceCalls calls;

    FfmGpm(FfmGpuDevice device, DeviceCalls calls) {
        this.device = device;
        this.calls = calls;
    }

    /** False when the driver has no GPM or the GPU is older than Hopper; a capability, never an error. */
    boolean supported() {
        String function = "nvmlGpmQueryDeviceSupport";
        MethodHandle h = device.nvml().fn.gpm.nvmlGpmQueryDeviceSupport;
        if (h == null) {
            return false;
        }
        try (var held = device.nvml().hold(function); Arena arena = Arena.ofConfined()) {
            MemorySegment support = Structs.versioned(arena.allocate(Layouts.GPM_SUPPORT), Layouts.GPM_VERSION);
            int rc = (int) h.invokeExact(device.handle(), support);
            if (rc == Native.NOT_SUPPORTED) {
                return false;
            }
            check(rc, function);
            return Structs.gpmSupported(support);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    GpmSample sample() {
        MethodHandle get = handle(device.nvml().fn.gpm.nvmlGpmSampleGet, "nvmlGpmSampleGet");
        return take("nvmlGpmSampleGet", -1, sample -> (int) get.invokeExact(device.handle(), sample));
    }

    /** A sample of one GPU instance, taken through its GPU. */
    GpmSample migSample(int gpuInstanceId) {
        MethodHandle get = handle(device.nvml().fn.gpm.nvmlGpmMigSampleGet, "nvmlGpmMigSampleGet");
        return take("nvmlGpmMigSampleGet", gpuInstanceId,
                sample -> (int) get.invokeExact(device.handle(), gpuInstanceId, sample));
    }

    /** Allocates a sample and fills it with {@code get}; a sample that could not be filled is freed at once. */
    private GpmSample take(String function, int gpuInstanceId, DeviceCalls.Call get) {
        String alloc = "nvmlGpmSampleAlloc";
        MethodHandle h = handle(device.nvml().fn.gpm.nvmlGpmSampleAlloc, alloc);
        MemorySegment sample = calls.struct(alloc, ADDRESS, out -> (int) h.invokeExact(out), out -> out.get(ADDRESS, 0));
        try {
            calls.command(function, () -> get.invoke(sample));
        } catch (RuntimeException | Error e) {
            FfmGpmSample.free(device.nvml(), sample);
            throw e;
        }
        return new FfmGpmSample(device, sample, gpuInstanceId);
    }

    static MethodHandle handle(MethodHandle h, String function) {
        if (h == null) {
            throw new NvmlException(Native.FUNCTION_NOT_FOUND, function, "this driver has no GPM (520+ drivers)");
        }
        return h;
    }

    List<GpmMetricValue> metrics(GpmSample first, GpmSample second, int... metricIds) {
        int n = metricIds.length;
        if (n <= Layouts.GPM_METRICS_PER_CALL) {
            return metricsOnce(first, second, metricIds);
        }
        // A driver rejects more than its own NVML_GPM_METRIC_MAX per call (98 up to 12.2): ask in chunks.
        List<GpmMetricValue> values = new ArrayList<>(n);
        for (int from = 0; from < n; from += Layouts.GPM_METRICS_PER_CALL) {
            int[] chunk = Arrays.copyOfRange(metricIds, from, Math.min(n, from + Layouts.GPM_METRICS_PER_CALL));
            values.addAll(metricsOnce(first, second, chunk));
        }
        return List.copyOf(values);
    }

    private List<GpmMetricValue> metricsOnce(GpmSample first, GpmSample second, int[] metricIds) {
        String function = "nvmlGpmMetricsGet";
        MethodHandle h = handle(device.nvml().fn.gpm.nvmlGpmMetricsGet, function);
        if (metricIds.length == 0) {
            return List.of();
        }
        return calls.struct(function, Layouts.GPM_METRICS_GET, get -> {
            Structs.gpmRequest(get, FfmGpmSample.handleOf(first), FfmGpmSample.handleOf(second), metricIds);
            return (int) h.invokeExact(get);
        }, get -> Structs.gpmMetrics(get, metricIds.length));
    }
}
