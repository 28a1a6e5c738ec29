package io.gpuagent.exporter;

import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.ProcessInfo;
import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * One read of one GPU: the device, the values being filled, and {@link #call} which every reader uses for
 * every NVML call. {@code call} implements the error policy in one place:
 * <ul>
 *   <li>NOT_SUPPORTED (and FUNCTION_NOT_FOUND, DEPRECATED): the readings it would fill are absent, and not
 *       asked again for {@link SamplerSettings#notSupportedRetry()} reads. Not counted as an error.</li>
 *   <li>GPU_IS_LOST (and LIB_RM_VERSION_MISMATCH): counted, then the whole read stops: the GPU is LOST.</li>
 *   <li>anything else: counted in {@code gpu_agent_nvml_errors_total}; those readings are absent this time.</li>
 * </ul>
 * Before each call it records the call's name, so a read that hangs can say where.
 */
final class ReadContext {
    private static final System.Logger LOG = System.getLogger(ReadContext.class.getName());

    final GpuState state;
    final GpuDevice device;
    final SamplerSettings settings;
    final AgentMeters meters;
    final boolean staticDue;
    final double[] values = new double[Reading.COUNT];
    private final boolean[] requested;
    List<NvLinkInfo> nvLinks = List.of();
    List<ProcessInfo> processes = List.of();
    List<String> notes = List.of();
    List<MigSample> migDevices = List.of();
    /** Whether the last failed {@link #call} failed with NOT_SUPPORTED. */
    boolean lastNotSupported;

    ReadContext(GpuState state, GpuDevice device, SamplerSettings settings, boolean[] requested, AgentMeters meters) {
        this.state = state;
        this.device = device;
        this.settings = settings;
        this.requested = requested;
        this.meters = meters;
        this.staticDue = state.lastValues == null || state.reads % settings.staticEvery() == 0;
        Arrays.fill(values, Double.NaN);
        if (!staticDue) {
            for (Reading r : Reading.values()) {
                if (r.isStatic()) {
                    values[r.ordinal()] = state.lastValues[r.ordinal()];
                }
            }
        }
    }

    /** Requested, not known to be unsupported (or due for a retry), and for a static reading: due. */
    boolean wants(Reading r) {
        return requested[r.ordinal()] && state.reads >= state.retryAt[r.ordinal()] && (!r.isStatic() || staticDue);
    }

    boolean wantsAny(Reading... readings) {
        for (Reading r : readings) {
            if (wants(r)) {
                return true;
            }
        }
        return false;
    }

    void set(Reading r, double value) {
        values[r.ordinal()] = value;
    }

    double get(Reading r) {
        return values[r.ordinal()];
    }

    /** The previous read's value (NaN when none). */
    double previous(Reading r) {
        return state.lastValues == null ? Double.NaN : state.lastValues[r.ordinal()];
    }

    /** Whether the reading was asked for at all (whatever its back-off). */
    boolean requested(Reading r) {
        return requested[r.ordinal()];
    }

    void note(String note) {
        List<String> more = new java.util.ArrayList<>(notes);
        more.add(note);
        notes = List.copyOf(more);
    }

    void unsupported(Reading r) {
        state.retryAt[r.ordinal()] = state.reads + settings.notSupportedRetry();
        values[r.ordinal()] = Double.NaN;
    }

    /**
     * Runs one NVML call; returns its result, or null when it failed (see the class comment).
     *
     * @param function the NVML function, for diagnostics of a call that hangs
     * @param fills    the readings this call would fill: marked unsupported on NOT_SUPPORTED
     * @throws GpuLostException when the GPU is lost
     */
    <T> T call(String function, Supplier<T> call, Reading... fills) {
        state.currentCallSinceNanos = System.nanoTime();
        state.currentCall = function;
        try {
            T result = call.get();
            lastNotSupported = false;
            return result;
        } catch (NvmlException e) {
            lastNotSupported = e.notSupported();
            if (lastNotSupported) {
                for (Reading r : fills) {
                    unsupported(r);
                }
                return null;
            }
            if (state.retired) {
                return null;   // NVML let go of meanwhile (a reset, shutdown): not the GPU's error
            }
            meters.nvmlError(e);
            if (e.gpuLost()) {
                throw new GpuLostException(e.getMessage());
            }
            return null;
        } catch (RuntimeException e) {
            // A bug below us (bindings) must cost one reading, not the GPU's whole read.
            lastNotSupported = false;
            LOG.log(Level.WARNING, "GPU " + state.index + ": " + function + " failed unexpectedly", e);
            return null;
        } finally {
            state.currentCall = null;
        }
    }

    GpuSample build(GpuInfo info, java.time.Instant readAt) {
        return GpuSample.builder(info).readAt(readAt).values(values).nvLinks(nvLinks).processes(processes).notes(notes)
                .migDevices(migDevices).build();
    }

    /** Thrown by {@link #call} when NVML says the GPU is gone; ends the read. */
    static final class GpuLostException extends RuntimeException {
        GpuLostException(String message) {
            super(message, null, false, false);
        }
    }

    /** Ends a read that cannot go on (e.g. the GPU cannot be identified); the GPU is served STALE. */
    static final class ReadFailedException extends RuntimeException {
        ReadFailedException(String message) {
            super(message, null, false, false);
        }
    }
}
