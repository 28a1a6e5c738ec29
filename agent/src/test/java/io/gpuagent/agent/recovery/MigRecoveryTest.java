package io.gpuagent.agent.recovery;

import static io.gpuagent.agent.lease.MigSnapshots.T;
import static io.gpuagent.agent.lease.MigSnapshots.device;
import static io.gpuagent.agent.lease.MigSnapshots.gpuUuid;
import static io.gpuagent.agent.lease.MigSnapshots.mig;
import static io.gpuagent.agent.lease.MigSnapshots.migUuid;
import static io.gpuagent.agent.lease.MigSnapshots.snapshot;
import static io.gpuagent.agent.lease.MigSnapshots.whole;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.lease.Lease;
import io.gpuagent.agent.refusal.Refusal;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Snapshot;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A GPU in MIG mode is drained and reset with all its MIG devices: a lease on any of them, or a process on any of
 * them, keeps the GPU from being idle, so its reset is refused until every instance's holders are gone (or
 * forced); a MIG device cannot be reset on its own. On snapshots built with the MIG model (the fake driver has no
 * MIG yet), and through the recovery engine's own rails on the fake.
 */
@QuarkusTest
@TestProfile(RecoveryApiTest.ObserveProfile.class)
class MigRecoveryTest {

    @Inject
    RecoveryEngine engine;

    private static Lease migLease(String id, String job, int gpu, int gi) {
        Lease.MigDevice d = new Lease.MigDevice(migUuid(gpu, gi), gpu, gpuUuid(gpu), gpu + "/" + gi, "1g.10gb", gi, 0,
                9856);
        return new Lease(id, job, List.of(d.uuid()), List.of(gpu), Map.of("CUDA_VISIBLE_DEVICES", d.uuid()), T,
                T.plusSeconds(600), 600, 1, List.of(d));
    }

    @Test
    void aLeaseOnAnyMigDeviceHoldsItsGpu() {
        Snapshot s = snapshot(mig(0, "1g.10gb", "1g.10gb", "3g.40gb"), whole(1));
        GpuSample gpu0 = s.gpu(gpuUuid(0)).orElseThrow();
        List<Lease> live = List.of(migLease("l-2", "job-b", 0, 2), migLease("l-other", "job-c", 1, 1));

        Busy busy = Busy.of(gpu0, Lease.holding(gpuUuid(0), live, T));
        assertFalse(busy.idle());
        assertEquals("leased by job job-b (lease l-2) (on its MIG devices or the GPU)", busy.describe());
        assertEquals(List.of("l-2"), Lease.holding(migUuid(0, 2), live, T).stream().map(h -> h.leaseId()).toList(),
                "the MIG device itself");
        assertTrue(Lease.holding(gpuUuid(0), live, T.plusSeconds(600)).isEmpty(), "an expired lease holds nothing");
        assertTrue(Busy.of(gpu0, Lease.holding(gpuUuid(0), List.of(), T)).idle());
    }

    @Test
    void aProcessOnAnyMigDeviceHoldsItsGpu() {
        GpuSample gpu0 = snapshot(mig(0).migDevices(List.of(device(0, 1, "1g.10gb", 0, List.of()),
                device(0, 2, "1g.10gb", 1, List.of(4242, 4343)), device(0, 3, "3g.40gb", 4, List.of(4242)))))
                .gpu(gpuUuid(0)).orElseThrow();
        Busy busy = Busy.of(gpu0, List.of());
        assertEquals(List.of(4242L, 4343L), busy.pids());
        assertEquals("NVML reports processes [4242, 4343] (on its MIG devices or the GPU)", busy.describe());
    }

    /** The engine's own rails: a reset names a GPU, never one of its MIG devices, even forced. */
    @Test
    void aMigDeviceCannotBeResetOnItsOwn() {
        Refusal.Conflict no = assertThrows(Refusal.Conflict.class, () -> engine.operator(Step.RESET,
                new Target(0, migUuid(0, 1), ""), "operator:test", "testing", true));
        assertTrue(no.getMessage().startsWith(migUuid(0, 1) + " is a MIG device, which cannot be reset on its own"),
                no.getMessage());
        assertTrue(no.instance().startsWith("/v1/actions/"), "audited: " + no.instance());
    }
}
