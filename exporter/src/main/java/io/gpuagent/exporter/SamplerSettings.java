package io.gpuagent.exporter;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * How the {@link Sampler} reads.
 *
 * @param interval           time between sweep starts ({@code gpu-agent.sample-interval}, default 1 s)
 * @param gpuDeadline        how long a sweep waits for one GPU's read ({@code gpu-agent.gpu-deadline}); a GPU
 *                           still inside NVML then is published STALE with its previous values
 * @param readings           what to read; {@link MetricCatalog#readingsFor} the exported metrics plus
 *                           {@link Reading#health()} for the detectors. Empty means every reading.
 * @param hostname           value of the host label on GPU series; null or blank: this machine's host name.
 *                           Pass {@link #hostname()} to the {@link GpuMetricsWriter}.
 * @param staticEvery        static readings (thresholds, max clocks, ECC mode, NVLink counts) and NVLink per-link
 *                           counters are re-read every this many reads of a GPU
 * @param notSupportedRetry  a reading that answered NOT_SUPPORTED is asked again after this many reads
 * @param lostRetry          a LOST GPU is probed again every this many sweeps (it may come back after a reset)
 */
public record SamplerSettings(Duration interval, Duration gpuDeadline, Set<Reading> readings, String hostname,
                              int staticEvery, int notSupportedRetry, int lostRetry) {

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_GPU_DEADLINE = Duration.ofMillis(800);

    public SamplerSettings {
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(gpuDeadline, "gpuDeadline");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("sample interval must be positive: " + interval);
        }
        if (gpuDeadline.isNegative() || gpuDeadline.isZero()) {
            throw new IllegalArgumentException("GPU deadline must be positive: " + gpuDeadline);
        }
        readings = readings == null || readings.isEmpty() ? Reading.all()
                : Collections.unmodifiableSet(EnumSet.copyOf(readings));
        hostname = hostname == null || hostname.isBlank() ? localHostname() : hostname.strip();
        if (staticEvery < 1 || notSupportedRetry < 1 || lostRetry < 1) {
            throw new IllegalArgumentException("staticEvery, notSupportedRetry and lostRetry must be >= 1");
        }
    }

    /** The common form: defaults for the refresh periods (60 reads, 300 reads, 10 sweeps). */
    public SamplerSettings(Duration interval, Duration gpuDeadline, Set<Reading> readings, String hostname) {
        this(interval, gpuDeadline, readings, hostname, 60, 300, 10);
    }

    /** 1 s interval, 800 ms deadline, every reading, this host's name. */
    public static SamplerSettings defaults() {
        return new SamplerSettings(DEFAULT_INTERVAL, DEFAULT_GPU_DEADLINE, Set.of(), null);
    }

    public SamplerSettings withInterval(Duration newInterval, Duration newDeadline) {
        return new SamplerSettings(newInterval, newDeadline, readings, hostname, staticEvery, notSupportedRetry, lostRetry);
    }

    public SamplerSettings withReadings(Set<Reading> newReadings) {
        return new SamplerSettings(interval, gpuDeadline, newReadings, hostname, staticEvery, notSupportedRetry, lostRetry);
    }

    /** Like dcgm-exporter's {@code os.Hostname()}: the kernel's host name, without a DNS lookup where possible. */
    private static String localHostname() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        try {
            String kernel = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!kernel.isEmpty()) {
                return kernel;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
