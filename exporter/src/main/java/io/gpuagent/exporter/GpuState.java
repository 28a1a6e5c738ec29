package io.gpuagent.exporter;

import io.gpuagent.nvml.GpmSample;
import io.gpuagent.nvml.GpuDevice;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the sampler keeps per GPU index between sweeps. Two owners: the fields marked "worker" are touched
 * only by that GPU's read task (at most one runs at a time; the future's completion orders one task before
 * the next), the fields marked "sampler" only by the sweeping thread. The volatile ones are read across.
 */
final class GpuState {
    final int index;

    // worker
    GpuDevice device;
    GpuInfo info;
    /** The identity this index had before NVML was initialised again; used only while {@link #info} is unread. */
    GpuInfo knownBefore;
    long reads;
    final long[] retryAt = new long[Reading.COUNT];
    double[] lastValues;
    Instant lastReadAt;
    /** When the first read of this GPU started: the age of a GPU never read successfully. */
    Instant firstReadStarted;
    List<NvLinkInfo> lastLinks = List.of();
    int nvLinkCount = -1;
    /** Per {@link io.gpuagent.nvml.NvLinkErrorCounter} kind: the read from which it is asked again. */
    final long[] nvLinkKindRetryAt = new long[io.gpuagent.nvml.NvLinkErrorCounter.values().length];
    int fanCount = -1;
    Boolean gpmSupported;
    GpmSample gpmPrevious;
    long gpmPreviousNanos;
    long gpmPcieRetryAt;
    /** While another profiler holds the GPM counters (IN_USE): since when, and the read to ask again. */
    java.time.Instant gpmInUseSince;
    long gpmInUseRetryAt;
    /** The read from which the power-limit calls are tried again after NOT_SUPPORTED (field fallback). */
    long powerLimitCallRetryAt;

    // both
    volatile String currentCall;
    volatile long currentCallSinceNanos;
    /** Set when this state is dropped (NVML instance changed, sampler closed): the task frees its GPM sample. */
    volatile boolean retired;

    // sampler
    CompletableFuture<GpuSample> inFlight;
    long inFlightSinceNanos;
    Instant inFlightSince;
    GpuSample published;
    long lostAtSweep;
    boolean staleReported;

    GpuState(int index) {
        this.index = index;
    }

    /** Frees the GPM sample; called by the worker, or by the sampler when no read is in flight. */
    void releaseNative() {
        GpmSample s = gpmPrevious;
        gpmPrevious = null;
        if (s != null) {
            try {
                s.close();
            } catch (RuntimeException ignored) {
                // a sample of an NVML instance that is already shut down: nothing left to free
            }
        }
    }
}
