package io.gpuagent.exporter;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * Whether and how the sampler reads NVIDIA DCGM beside NVML (docs/dcgm.md). With {@link Mode#OFF} (the default)
 * no DCGM library is loaded and no thread is started.
 *
 * @param mode           {@code gpu-agent.dcgm.mode}: off, embedded (a host engine in this process) or remote
 * @param library        {@code gpu-agent.dcgm.library}: a path or a soname ({@code libdcgm.so.4})
 * @param address        {@code gpu-agent.dcgm.address}: the remote host engine ({@code host:port}, {@code tcp://},
 *                       {@code unix:///path}); unused when embedded
 * @param profiling      {@code gpu-agent.dcgm.profiling}: where {@code DCGM_FI_PROF_*} come from
 * @param connectTimeout how long a remote connect may take
 * @param maxBackoff     the longest wait between two attempts to reach DCGM again (doubling from 1 s)
 * @param fields         DCGM-only fields to serve (the counters file's {@link MetricDef#isDcgmField()} ids)
 */
public record DcgmSettings(Mode mode, String library, String address, Profiling profiling, Duration connectTimeout,
                           Duration maxBackoff, Set<Integer> fields) {

    /** {@code gpu-agent.dcgm.mode}. */
    public enum Mode { OFF, EMBEDDED, REMOTE }

    /**
     * {@code gpu-agent.dcgm.profiling}. AUTO: DCGM gives the profiling readings of GPUs without GPM (before Hopper)
     * and GPM stays ours where the GPU has it; DCGM: DCGM gives them on every GPU (our GPM is not read); GPM: never
     * from DCGM.
     */
    public enum Profiling { AUTO, DCGM, GPM }

    public static final String DEFAULT_LIBRARY = "libdcgm.so.4";

    public static final DcgmSettings OFF = new DcgmSettings(Mode.OFF, DEFAULT_LIBRARY, "localhost:5555",
            Profiling.AUTO, Duration.ofSeconds(5), Duration.ofSeconds(30), Set.of());

    public DcgmSettings {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(profiling, "profiling");
        library = library == null || library.isBlank() ? DEFAULT_LIBRARY : library.strip();
        address = address == null ? "" : address.strip();
        if (mode == Mode.REMOTE && address.isEmpty()) {
            throw new IllegalArgumentException("gpu-agent.dcgm.mode=remote needs gpu-agent.dcgm.address "
                    + "(host:port, tcp://host:port or unix:///path of nv-hostengine)");
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero() || maxBackoff.isNegative() || maxBackoff.isZero()) {
            throw new IllegalArgumentException("DCGM connect timeout and backoff must be positive");
        }
        fields = Set.copyOf(fields);
    }

    public boolean on() {
        return mode != Mode.OFF;
    }

    public DcgmSettings withFields(Set<Integer> newFields) {
        return new DcgmSettings(mode, library, address, profiling, connectTimeout, maxBackoff, newFields);
    }
}
