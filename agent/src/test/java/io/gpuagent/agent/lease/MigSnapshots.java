package io.gpuagent.agent.lease;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.MigHealth;
import io.gpuagent.agent.health.Reason;
import io.gpuagent.agent.health.Samples;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MigInstance;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Snapshot;
import io.gpuagent.nvml.ProcessInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Snapshots with GPUs in MIG mode, built with the shared model (the fake driver has no MIG yet): H100s whose MIG
 * devices have the profiles, ids, memory and slices an H100 80GB gives them, so placement, leases and recovery
 * run their real code on them.
 */
public final class MigSnapshots {

    public static final Instant T = Samples.T0;
    /** What the lease book allows: 3 sample intervals of the tests' 200 ms. */
    static final Duration STALE_AFTER = Duration.ofMillis(600);

    /** H100 80GB profiles: name -> {profileId, slices, multiprocessors, memory MiB}. */
    private static final Map<String, long[]> H100 = Map.of(
            "1g.10gb", new long[] {19, 1, 16, 9856},
            "1g.10gb+me", new long[] {20, 1, 16, 9856},
            "2g.20gb", new long[] {14, 2, 32, 20096},
            "3g.40gb", new long[] {9, 3, 60, 40320},
            "7g.80gb", new long[] {0, 7, 132, 80896});

    private MigSnapshots() {
    }

    public static String gpuUuid(int gpu) {
        return Samples.uuid(gpu);
    }

    /** The MIG UUID of GPU instance {@code gi} on GPU {@code gpu}: stable in a test, of the driver's form. */
    public static String migUuid(int gpu, int gi) {
        return String.format("MIG-%08d-0000-4000-8000-%012d", gpu, gi);
    }

    /** A healthy GPU not in MIG mode, with 80 GB of memory nearly all free. */
    public static GpuSample.Builder whole(int gpu) {
        return Samples.healthy(gpu).set(Reading.FB_TOTAL_MIB, 81559).set(Reading.FB_FREE_MIB, 81000)
                .set(Reading.MIG_MODE, 0);
    }

    /**
     * A GPU in MIG mode with one MIG device (compute instance 0) per profile, on GPU instances 1, 2, ... in order,
     * each with its memory free; no profile: MIG mode with no instances yet.
     */
    public static GpuSample.Builder mig(int gpu, String... profiles) {
        List<MigSample> devices = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < profiles.length; i++) {
            devices.add(device(gpu, i + 1, profiles[i], start, List.of()));
            start += (int) H100.get(profiles[i])[1];
        }
        return Samples.healthy(gpu).set(Reading.FB_TOTAL_MIB, 81559).set(Reading.MIG_MODE, 1)
                .set(Reading.MIG_MODE_PENDING, 1).migDevices(devices);
    }

    /** One MIG device; {@code pids}: compute processes on it. */
    public static MigSample device(int gpu, int gi, String profile, int placementStart, List<Integer> pids) {
        long[] p = H100.get(profile);
        MigInstance info = new MigInstance(gpu, gpuUuid(gpu), migUuid(gpu, gi), gi, 0, profile, (int) p[0], (int) p[1],
                placementStart, (int) p[2], p[3]);
        return MigSample.builder(info).set(Reading.FB_TOTAL_MIB, p[3]).set(Reading.FB_FREE_MIB, p[3] - 13)
                .processes(pids.stream().map(pid -> new ProcessInfo(pid, 1L << 20, gi, 0)).toList()).build();
    }

    public static Snapshot snapshot(GpuSample.Builder... gpus) {
        return Samples.snapshot(java.util.Arrays.stream(gpus).map(GpuSample.Builder::build).toArray(GpuSample[]::new));
    }

    /** Every GPU of the snapshot HEALTHY. */
    public static List<GpuHealth> healthy(Snapshot s) {
        return s.gpus().stream().map(g -> verdict(g.index(), g.uuid(), HealthState.HEALTHY)).toList();
    }

    /** A verdict for a device (a GPU, or a MIG device as the health model will judge them by their MIG UUID). */
    public static GpuHealth verdict(int index, String uuid, HealthState state) {
        List<Reason> reasons = state == HealthState.HEALTHY ? List.of()
                : List.of(new Reason("xid", "XID_79", state, "GPU has fallen off the bus", "reset", List.of(), true, T,
                        T, 1));
        return new GpuHealth(index, uuid, "NVIDIA H100 80GB HBM3", state, T, reasons);
    }

    /**
     * {@code health} with MIG device {@code migUuid} of snapshot {@code s} judged {@code state} by its own reasons, as
     * the health model lists it: under its GPU's verdict.
     */
    public static List<GpuHealth> withMig(List<GpuHealth> health, Snapshot s, String migUuid, HealthState state) {
        MigInstance d = s.gpus().stream().flatMap(g -> g.migDevices().stream()).map(MigSample::info)
                .filter(m -> m.uuid().equals(migUuid)).findFirst().orElseThrow();
        List<Reason> reasons = verdict(d.gpuIndex(), migUuid, state).reasons();
        MigHealth mig = new MigHealth(d.uuid(), d.address(), d.gpuIndex(), d.parentUuid(), d.gpuInstanceId(),
                d.computeInstanceId(), d.profile(), state, T, reasons, List.of(), List.of());
        return health.stream().map(g -> !g.uuid().equals(d.parentUuid()) ? g
                : new GpuHealth(g.index(), g.uuid(), g.name(), g.state(), g.since(), g.reasons(), g.actions(),
                        java.util.stream.Stream.concat(g.migDevices().stream(), java.util.stream.Stream.of(mig)).toList()))
                .toList();
    }

    /** The standings the lease book would decide with, at the snapshot's time. */
    static Standings standings(Snapshot s, List<GpuHealth> health, Cordons cordons, List<Lease> leases) {
        return Standings.of(s, health, cordons, Holders.of(leases, T), T, STALE_AFTER);
    }
}
