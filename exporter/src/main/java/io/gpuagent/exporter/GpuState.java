package io.gpuagent.exporter;

import io.gpuagent.nvml.GpmSample;
import io.gpuagent.nvml.GpuDevice;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What the sampler keeps per GPU index between sweeps. Two owners: the fields marked "worker" are touched
 * only by that GPU's read task (at most one runs at a time; the future's completion orders one task before
 * the next), the fields marked "sampler" only by the sweeping thread. The volatile ones are read across.
 */
final class GpuState {
    private static final System.Logger LOG = System.getLogger(Sampler.class.getName());   // the sampler's words

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
    /** MIG: identities by MIG UUID, the last read's devices, and the previous GPM sample of each (see MigReader). */
    Map<String, MigInstance> migInfos = Map.of();
    List<MigSample> lastMig = List.of();
    final Map<String, MigGpm> migGpm = new HashMap<>();
    /** The read from which the power-limit calls are tried again after NOT_SUPPORTED (field fallback). */
    long powerLimitCallRetryAt;
    /** The clock event reasons of the last read that had them; meaningful once {@link #clockEventTotals} is set. */
    long clockEventReasonsSeen;
    /** Per {@link ClockEvent}: the times it began since the first read with reasons; null before that read. */
    long[] clockEventTotals;

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

    /** A GPU instance's previous GPM sample and when it was taken. */
    record MigGpm(GpmSample sample, long nanos) {
    }

    /** Not in MIG mode (any more): no devices, and their GPM samples freed. */
    void forgetMig() {
        migInfos = Map.of();
        lastMig = List.of();
        closeMigGpmExcept(Set.of());
    }

    /** Frees the GPM samples of MIG devices not in {@code keep} (destroyed instances). */
    void closeMigGpmExcept(Set<String> keep) {
        var it = migGpm.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            if (!keep.contains(e.getKey())) {
                it.remove();
                close(e.getValue().sample());
            }
        }
    }

    /** Frees the GPM samples (the GPU's and its MIG devices'); called by the worker, or by the sampler when no read is in flight. */
    void releaseNative() {
        closeMigGpmExcept(Set.of());
        GpmSample s = gpmPrevious;
        gpmPrevious = null;
        close(s);
    }

    private static void close(GpmSample s) {
        if (s != null) {
            try {
                s.close();
            } catch (RuntimeException ignored) {
                // a sample of an NVML instance that is already shut down: nothing left to free
            }
        }
    }

    /**
     * On the sampler thread, after the sweep's deadline: what this GPU publishes. A finished read's sample; a
     * read still in NVML: the previous readings STALE (or, for the first read after a release, the readings
     * from before it, not called a hang); a LOST GPU between probes: its last sample.
     */
    GpuSample collect(long sweeps, Snapshot releasedFrom) {
        CompletableFuture<GpuSample> f = inFlight;
        if (f == null) {
            return published; // a LOST GPU between probes
        }
        if (!f.isDone()) {
            if (published == null && releasedFrom != null) {
                // The first read after a release (handles, identity, static readings) is not a hang.
                Optional<GpuSample> before = releasedFrom.gpu(index);
                if (before.isPresent() && before.get().status() != GpuStatus.LOST) {
                    return before.get().released("NVML initialised again after a GPU reset; first read in progress");
                }
            }
            long ms = (System.nanoTime() - inFlightSinceNanos) / 1_000_000;
            String call = currentCall;
            String reason = "read still running after " + ms + " ms" + (call != null ? ", in " + call : "");
            if (!staleReported) {
                staleReported = true;
                LOG.log(Level.WARNING, "GPU " + index + ": " + reason + "; serving its previous readings as stale");
            }
            return published != null ? published.withStatus(GpuStatus.STALE, reason)
                    : GpuSample.unread(GpuInfo.unknown(index), GpuStatus.STALE, reason, inFlightSince);
        }
        inFlight = null;
        GpuSample s;
        try {
            s = f.join();
        } catch (RuntimeException e) {
            s = published == null ? null : published.withStatus(GpuStatus.STALE, "read failed: " + e);
        }
        if (staleReported && s != null && s.status() == GpuStatus.OK) {
            staleReported = false;
            LOG.log(Level.INFO, "GPU " + index + ": reads are back on time");
        }
        if (s != null && s.status() == GpuStatus.LOST && (published == null || published.status() != GpuStatus.LOST)) {
            lostAtSweep = sweeps;
            LOG.log(Level.WARNING, "GPU " + index + " (" + s.uuid() + ") is lost: " + s.statusReason());
        }
        published = s;
        return s;
    }

    /** On the sampler thread: this index is beyond the driver's device count now, so it is LOST. */
    GpuSample vanished(int count) {
        if (published == null) {
            return null;
        }
        if (published.status() != GpuStatus.LOST) {
            LOG.log(Level.WARNING, "GPU " + index + " (" + published.uuid() + ") is no longer reported by the driver");
            published = published.withStatus(GpuStatus.LOST, "the driver reports " + count + " GPUs; index " + index
                    + " vanished");
        }
        return published;
    }
}
