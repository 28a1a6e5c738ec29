package io.gpuagent.nvml.ffm;

import static io.gpuagent.nvml.ffm.Native.check;
import static io.gpuagent.nvml.ffm.Native.rethrow;

import io.gpuagent.nvml.GpmSample;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.NvmlException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An {@code nvmlGpmSample_t} filled by {@code nvmlGpmSampleGet}, or by {@code nvmlGpmMigSampleGet} for one GPU
 * instance ({@code gpuInstanceId} >= 0); {@link #close()} frees it once.
 */
final class FfmGpmSample implements GpmSample {
    private final FfmGpuDevice device;
    private final MemorySegment sample;
    private final int gpuInstanceId;
    private final AtomicBoolean closed = new AtomicBoolean();

    FfmGpmSample(FfmGpuDevice device, MemorySegment sample, int gpuInstanceId) {
        this.device = device;
        this.sample = sample;
        this.gpuInstanceId = gpuInstanceId;
    }

    /** A no-op once NVML is closed: the last {@code nvmlShutdown} freed every sample. */
    static void free(FfmNvml nvml, MemorySegment sample) {
        String function = "nvmlGpmSampleFree";
        if (nvml.closed()) {
            return;
        }
        var h = FfmGpm.handle(nvml.fn.gpm.nvmlGpmSampleFree, function);
        try (var held = nvml.hold(function)) {
            check((int) h.invokeExact(sample), function);
        } catch (NvmlException e) {
            if (!nvml.closed()) {
                throw e;
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The native sample behind {@code sample}, which must be one of ours and still open. */
    static MemorySegment handleOf(GpmSample sample) {
        if (!(sample instanceof FfmGpmSample ours)) {
            throw new IllegalArgumentException("not a GPM sample from these bindings: " + sample);
        }
        if (ours.closed.get()) {
            throw new IllegalStateException("GPM sample already closed");
        }
        return ours.sample;
    }

    @Override
    public GpuDevice device() {
        return device;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            free(device.nvml(), sample);
        }
    }

    @Override
    public String toString() {
        return "GpmSample[" + device + (gpuInstanceId >= 0 ? ", GPU instance " + gpuInstanceId : "")
                + (closed.get() ? ", closed]" : "]");
    }
}
