package io.gpuagent.exporter;

import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

/**
 * Reads one GPU in full, on that GPU's worker (a platform thread: a native call that hangs cannot be
 * interrupted, and would pin a virtual thread's carrier). Returns the GPU's sample: OK, LOST (with the
 * previous values), STALE (identity or handle unreadable), or null for a GPU this process may not open.
 */
final class GpuReadTask implements Supplier<GpuSample> {
    private static final System.Logger LOG = System.getLogger(GpuReadTask.class.getName());

    /**
     * Field batch first (the NVLink reader compares its totals), GPM before PCIe (it may spare the slow call), MIG
     * after GPM (it follows the GPU's GPM verdict) and processes (it adds its devices' processes to the GPU's).
     */
    static final List<GpuReader> READERS = List.of(new FieldValuesReader(), new GpmReader(), new ClockReader(),
            new ThermalReader(), new PowerReader(), new UtilizationReader(), new MemoryReader(),
            new PerformanceReader(), new PcieReader(), new NvLinkReader(), new FabricReader(), new ProcessReader(), new MigReader());

    private final Nvml nvml;
    private final GpuState state;
    private final SamplerSettings settings;
    private final boolean[] requested;
    private final AgentMeters meters;
    private final Clock clock;

    GpuReadTask(Nvml nvml, GpuState state, SamplerSettings settings, boolean[] requested, AgentMeters meters, Clock clock) {
        this.nvml = nvml;
        this.state = state;
        this.settings = settings;
        this.requested = requested;
        this.meters = meters;
        this.clock = clock;
    }

    @Override
    public GpuSample get() {
        try {
            return read();
        } finally {
            if (state.retired) {
                state.releaseNative();
            }
        }
    }

    private GpuSample read() {
        if (state.firstReadStarted == null) {
            state.firstReadStarted = clock.instant();
        }
        try {
            if (state.device == null) {
                state.device = open();
                if (state.device == null) {
                    return null;
                }
            }
            ReadContext ctx = new ReadContext(state, state.device, settings, requested, meters);
            if (state.info == null) {
                state.info = IdentityReader.read(ctx);
            }
            for (GpuReader reader : READERS) {
                reader.read(ctx);
            }
            Instant now = clock.instant();
            GpuSample sample = ctx.build(state.info, now);
            state.lastValues = ctx.values;
            state.lastReadAt = now;
            state.reads++;
            return sample;
        } catch (ReadContext.GpuLostException e) {
            return previous(GpuStatus.LOST, e.getMessage());
        } catch (ReadContext.ReadFailedException e) {
            return previous(GpuStatus.STALE, e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "GPU " + state.index + ": read failed", e);
            return previous(GpuStatus.STALE, "read failed: " + e);
        }
    }

    /** The handle; null for a GPU this process may not open (left out of the snapshot, like Nvml.devices()). */
    private GpuDevice open() {
        try {
            return nvml.device(state.index);
        } catch (NvmlException e) {
            if (e.noPermission()) {
                return null;
            }
            meters.nvmlError(e);
            if (e.gpuLost()) {
                throw new ReadContext.GpuLostException(e.getMessage());
            }
            throw new ReadContext.ReadFailedException("cannot open the GPU: " + e.getMessage());
        }
    }

    private GpuSample previous(GpuStatus status, String reason) {
        GpuInfo info = state.info != null ? state.info
                : state.knownBefore != null ? state.knownBefore : GpuInfo.unknown(state.index);
        GpuSample.Builder b = GpuSample.builder(info).status(status, reason)
                .readAt(state.lastReadAt != null ? state.lastReadAt : state.firstReadStarted).nvLinks(state.lastLinks)
                .migDevices(state.lastMig);
        if (state.lastValues != null) {
            b.values(state.lastValues);
        }
        return b.build();
    }
}
