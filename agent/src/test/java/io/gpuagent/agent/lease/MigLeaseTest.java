package io.gpuagent.agent.lease;

import static io.gpuagent.agent.lease.MigSnapshots.T;
import static io.gpuagent.agent.lease.MigSnapshots.gpuUuid;
import static io.gpuagent.agent.lease.MigSnapshots.healthy;
import static io.gpuagent.agent.lease.MigSnapshots.mig;
import static io.gpuagent.agent.lease.MigSnapshots.migUuid;
import static io.gpuagent.agent.lease.MigSnapshots.snapshot;
import static io.gpuagent.agent.lease.MigSnapshots.verdict;
import static io.gpuagent.agent.lease.MigSnapshots.whole;
import static io.gpuagent.agent.lease.MigSnapshots.withMig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.refusal.Refusal;
import io.gpuagent.exporter.Snapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Leases of MIG devices through the lease book's own decision ({@link LeaseAdmission#lease} on {@link Standings}),
 * on snapshots built with the MIG model: an H100 in MIG mode with 1g.10gb x3 + 3g.40gb x1 (GPU 0), a whole GPU
 * (GPU 1), and a GPU in MIG mode with no instances yet (GPU 2).
 */
class MigLeaseTest {

    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private final Snapshot node = snapshot(mig(0, "1g.10gb", "1g.10gb", "1g.10gb", "3g.40gb"), whole(1), mig(2));
    private final Cordons cordons = new Cordons();
    private final List<Lease> leases = new ArrayList<>();
    private List<GpuHealth> health = healthy(node);
    private long token;

    private static LeaseRequest migAsk(String job, String profile, int count) {
        return new LeaseRequest(job, null, null, new MigRequest(profile, count), null, null, null);
    }

    private static LeaseRequest uuids(String job, String... uuids) {
        return new LeaseRequest(job, null, List.of(uuids), null, null, null, null);
    }

    private static LeaseRequest gpus(String job, int n) {
        return new LeaseRequest(job, n, null, null, null, null, null);
    }

    /** What the lease book does under its lock: decide on the standings now, then hold the lease. */
    private Lease grant(LeaseRequest r) {
        Lease l = LeaseAdmission.lease(r, standings(), "lease-" + (token + 1), T, ++token);
        leases.add(l);
        return l;
    }

    private Standings standings() {
        return MigSnapshots.standings(node, health, cordons, leases);
    }

    @Test
    void twoOneGigDevicesAreLeasedAsTwoMigUuidsWithWhatTheJobNeeds() throws Exception {
        Lease l = grant(migAsk("job-a", "1g.10gb", 2));

        assertEquals(List.of(migUuid(0, 1), migUuid(0, 2)), l.gpus());
        assertEquals(List.of(0, 0), l.indices(), "each device's parent GPU");
        assertEquals(migUuid(0, 1) + "," + migUuid(0, 2), l.env().get("CUDA_VISIBLE_DEVICES"));
        assertEquals(migUuid(0, 1) + "," + migUuid(0, 2), l.env().get("NVIDIA_VISIBLE_DEVICES"));
        assertEquals(List.of("0/1", "0/2"), l.mig().stream().map(Lease.MigDevice::address).toList());
        assertEquals(List.of(gpuUuid(0), gpuUuid(0)), l.mig().stream().map(Lease.MigDevice::parentUuid).toList());
        assertEquals(List.of("1g.10gb", "1g.10gb"), l.mig().stream().map(Lease.MigDevice::profile).toList());
        assertEquals(9856, l.mig().getFirst().memoryMiB());
        assertTrue(l.holds(gpuUuid(0)), "a lease of MIG devices holds their GPU for a drain or a reset");
        assertFalse(l.holds(gpuUuid(1)));

        String json = JSON.writeValueAsString(l);
        assertTrue(json.contains("\"mig\":[{\"uuid\":\"" + migUuid(0, 1) + "\",\"gpuIndex\":0,\"parentUuid\":\""
                + gpuUuid(0) + "\",\"address\":\"0/1\",\"profile\":\"1g.10gb\",\"gpuInstanceId\":1,"
                + "\"computeInstanceId\":0,\"memoryMiB\":9856}"), json);

        Standings now = standings();
        assertEquals(List.of(false, false, true, true), now.mig().stream().map(MigStanding::leasable).toList());
        assertEquals("MIG device 0/1 (1g.10gb) is leased to job job-a (lease lease-1)", now.mig().getFirst().unavailable());
    }

    @Test
    void aThirdIsRefusedWhenOnlyTwoAreHealthyAndFree() {
        // GI 3 has its own fault (the health model judges it by its MIG UUID): only two 1g.10gb are healthy.
        health = withMig(healthy(node), node, migUuid(0, 3), HealthState.UNHEALTHY);
        Lease two = grant(migAsk("job-a", "1g.10gb", 2));
        assertEquals(List.of(migUuid(0, 1), migUuid(0, 2)), two.gpus(), "the two healthy instances");

        Refusal.Conflict third = assertThrows(Refusal.Conflict.class, () -> grant(migAsk("job-b", "1g.10gb", 1)));
        assertEquals("1 MIG device(s) of profile 1g.10gb asked, 0 leasable: MIG device 0/1 (1g.10gb) is leased to job "
                + "job-a (lease lease-1), MIG device 0/2 (1g.10gb) is leased to job job-a (lease lease-1), MIG device 0/3 "
                + "(1g.10gb) is UNHEALTHY (xid XID_79)", third.getMessage());

        Refusal.Conflict three = assertThrows(Refusal.Conflict.class, () -> {
            leases.clear();
            grant(migAsk("job-c", "1g.10gb", 3));
        });
        assertTrue(three.getMessage().startsWith("3 MIG device(s) of profile 1g.10gb asked, 2 leasable: MIG device 0/3 "
                + "(1g.10gb) is UNHEALTHY"), three.getMessage());
        // The sibling's fault is its own: the 3g.40gb on the same GPU is still leasable.
        assertEquals(List.of(migUuid(0, 4)), grant(migAsk("job-d", "3g.40gb", 1)).gpus());
    }

    @Test
    void aProfileTheNodeDoesNotHaveOrTooFewOfItSaySo() {
        Refusal.Conflict none = assertThrows(Refusal.Conflict.class, () -> grant(migAsk("j", "2g.20gb", 1)));
        assertEquals("1 MIG device(s) of profile 2g.20gb asked, this node has none: 1g.10gb x3, 3g.40gb x1; the MIG "
                + "layout is the operator's (nvidia-mig-parted)", none.getMessage());
        Refusal.Conflict few = assertThrows(Refusal.Conflict.class, () -> grant(migAsk("j", "1g.10gb", 4)));
        assertEquals("4 MIG device(s) of profile 1g.10gb asked, 3 leasable (this node has 3 of that profile: "
                + "1g.10gb x3, 3g.40gb x1)", few.getMessage());
    }

    @Test
    void aWholeGpuLeaseNeverTakesAGpuInMigModeEvenWithoutInstances() {
        Standings s = standings();
        assertEquals(List.of(true, false, true), s.gpus().stream().map(GpuStanding::migMode).toList());
        assertEquals(List.of(false, true, false), s.gpus().stream().map(GpuStanding::leasable).toList());
        assertTrue(s.gpus().get(2).unavailable().startsWith("GPU 2 is in MIG mode (0 MIG device(s)): it is never "
                + "leased whole"), s.gpus().get(2).unavailable());

        assertEquals(List.of(gpuUuid(1)), grant(gpus("job-a", 1)).gpus());
        Refusal.Conflict more = assertThrows(Refusal.Conflict.class, () -> grant(gpus("job-b", 1)));
        assertTrue(more.getMessage().contains("GPU 0 is in MIG mode (4 MIG device(s))"), more.getMessage());
        assertTrue(more.getMessage().contains("GPU 2 is in MIG mode (0 MIG device(s))"), more.getMessage());
        Refusal.Conflict named = assertThrows(Refusal.Conflict.class, () -> grant(uuids("job-c", gpuUuid(0))));
        assertTrue(named.getMessage().contains("GPU 0 is in MIG mode"), named.getMessage());
    }

    @Test
    void uuidsMayNameMigDevices() {
        Lease l = grant(uuids("job-a", migUuid(0, 4), migUuid(0, 2)));
        assertEquals(List.of(migUuid(0, 2), migUuid(0, 4)), l.gpus(), "in GPU instance order");
        assertEquals(List.of("1g.10gb", "3g.40gb"), l.mig().stream().map(Lease.MigDevice::profile).toList());

        Refusal.Conflict taken = assertThrows(Refusal.Conflict.class, () -> grant(uuids("job-b", migUuid(0, 2))));
        assertEquals("1 MIG device(s) asked by UUID, not all can be leased: MIG device 0/2 (1g.10gb) is leased to job "
                + "job-a (lease lease-1)", taken.getMessage());
        Refusal.Invalid unknown = assertThrows(Refusal.Invalid.class, () -> grant(uuids("job-b", migUuid(1, 1))));
        assertTrue(unknown.getMessage().contains("not a MIG device of this node"), unknown.getMessage());
        IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class,
                () -> uuids("job-b", migUuid(0, 1), gpuUuid(1)));
        assertTrue(mixed.getMessage().contains("both MIG devices (MIG-...) and whole GPUs"), mixed.getMessage());
    }

    @Test
    void aCordonOrAFaultOfTheGpuCoversItsMigDevices() {
        cordons.cordon(gpuUuid(0), "operator:test", "fan noise", T);
        Standings s = standings();
        assertTrue(s.mig().stream().noneMatch(MigStanding::leasable));
        assertTrue(s.mig().stream().allMatch(MigStanding::cordoned));
        assertEquals("MIG device 0/1 (1g.10gb): GPU 0 is cordoned (fan noise)", s.mig().getFirst().unavailable());
        cordons.uncordon(gpuUuid(0));

        health = List.of(verdict(0, gpuUuid(0), HealthState.UNHEALTHY), verdict(1, gpuUuid(1), HealthState.HEALTHY),
                verdict(2, gpuUuid(2), HealthState.HEALTHY));
        Refusal.Conflict no = assertThrows(Refusal.Conflict.class, () -> grant(migAsk("j", "3g.40gb", 1)));
        assertEquals("1 MIG device(s) of profile 3g.40gb asked, 0 leasable: MIG device 0/4 (3g.40gb): GPU 0 is "
                + "UNHEALTHY (xid XID_79)", no.getMessage());
        assertEquals("UNHEALTHY", standings().mig().getLast().toInventory().health(), "the parent's fault shows on each");

        // A cordon of one MIG device is that device's alone.
        health = healthy(node);
        cordons.cordon(migUuid(0, 1), "operator:test", "suspect", T);
        assertEquals(List.of(migUuid(0, 2)), grant(migAsk("j", "1g.10gb", 1)).gpus());
    }

    @Test
    void aLeaseFromBeforeAMigModeChangeKeepsTheOtherKindOff() {
        // GPU 1 was leased whole, then MIG mode was turned on (instances created) under the lease.
        leases.add(new Lease("old", "job-old", List.of(gpuUuid(1)), List.of(1), Map.of(), T, T.plusSeconds(600), 600, 1));
        Snapshot changed = snapshot(mig(0, "1g.10gb"), mig(1, "1g.10gb"));
        Standings s = MigSnapshots.standings(changed, healthy(changed), cordons, leases);
        assertEquals("MIG device 1/1 (1g.10gb): GPU 1 is leased whole to job job-old (lease old) from before its MIG "
                + "mode was turned on", s.mig().getLast().unavailable());

        // GPU 0's MIG devices were leased, then MIG mode was turned off under the lease.
        leases.clear();
        leases.add(LeaseAdmission.lease(migAsk("job-mig", "1g.10gb", 1), standings(), "mig", T, 2));
        Snapshot off = snapshot(whole(0), whole(1));
        Standings after = MigSnapshots.standings(off, healthy(off), cordons, leases);
        assertEquals("GPU 0 has MIG devices leased to job job-mig (lease mig) from before its MIG mode was turned off",
                after.gpus().getFirst().unavailable());
        assertTrue(after.gpus().get(1).leasable());
    }

    @Test
    void staleReadingsOfTheGpuMakeItsMigDevicesUnavailable() {
        Standings late = Standings.of(node, health, cordons, Holders.NONE, T.plusSeconds(5), MigSnapshots.STALE_AFTER);
        assertEquals("MIG device 0/1 (1g.10gb): GPU 0 has no fresh readings (the newest snapshot is 5000 ms old)",
                late.mig().getFirst().unavailable());
    }

    @Test
    void minMemoryIsEachMigDevicesFreeMemory() {
        LeaseRequest big = new LeaseRequest("j", null, null, new MigRequest("1g.10gb", 1), 20_000L, null, null);
        Refusal.Conflict no = assertThrows(Refusal.Conflict.class, () -> grant(big));
        assertTrue(no.getMessage().contains("MIG device 0/1 (1g.10gb) has 9843 MiB free, 20000 MiB asked"), no.getMessage());
        LeaseRequest fits = new LeaseRequest("j", null, null, new MigRequest("3g.40gb", 1), 20_000L, null, null);
        assertEquals(List.of(migUuid(0, 4)), grant(fits).gpus());
    }

    @Test
    void theInventoryShowsMigDevicesAndTheGpusMigMode() {
        grant(migAsk("job-a", "1g.10gb", 1));
        Standings s = standings();
        Inventory.Gpu gpu0 = s.gpus().getFirst().toInventory();
        assertTrue(gpu0.migMode());
        assertFalse(gpu0.leasable());
        List<Inventory.Mig> mig = s.mig().stream().map(MigStanding::toInventory).toList();
        assertEquals(4, mig.size());
        assertEquals(new Inventory.Mig(migUuid(0, 2), 0, "0/2", "1g.10gb", 9856, 9843L, "HEALTHY", false, null, true),
                mig.get(1));
        assertEquals("lease-1", mig.getFirst().leaseId());
        assertFalse(mig.getFirst().leasable());
    }

    @Test
    void requestsAreCheckedStrictly() {
        for (String ok : List.of("1g.10gb", "3g.40gb", "7g.80gb", "1g.10gb+me", "1g.24gb+gfx", "1g.24gb-me",
                "1g.24gb+me.all", "1g.5gb")) {
            assertEquals(ok, new MigRequest(ok, 1).profile());
        }
        for (String bad : List.of("", "1g", "10gb", "1g.10GB", "MIG 1g.10gb", "1g.10gb ", "9g.80gb", "1c.3g.40gb",
                "1g.10gb;rm")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MigRequest(bad, 1), bad);
            assertTrue(e.getMessage().startsWith("\"mig.profile\" must be a MIG profile"), e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new MigRequest("MIG 1g.10gb", 1)).getMessage()
                .contains("without NVML's \"MIG \" prefix"));
        assertEquals("\"mig.count\" must be at least 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> new MigRequest("1g.10gb", 0)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new MigRequest("1g.10gb", null)).getMessage()
                .startsWith("\"mig.count\" is required"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new MigRequest(null, 1)).getMessage()
                .startsWith("\"mig.profile\" is required"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new LeaseRequest("j", 1, null, new MigRequest("1g.10gb", 1), null, null, null)).getMessage()
                .startsWith("give exactly one of"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new LeaseRequest("j", null, null, new MigRequest("1g.10gb", 1), null, true, null)).getMessage()
                .contains("cannot be asked for MIG devices"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new LeaseRequest("j", null, List.of(migUuid(0, 1)), null, null, true, null)).getMessage()
                .contains("cannot be asked for MIG devices"));
    }

    @Test
    void aWholeGpuLeaseKeepsItsJsonShape() throws Exception {
        Lease l = grant(gpus("job-a", 1));
        assertTrue(l.mig().isEmpty());
        String json = JSON.writeValueAsString(l);
        assertFalse(json.contains("\"mig\""), json);
        assertEquals("1", l.env().get("CUDA_VISIBLE_DEVICES"));
        assertEquals(l, JSON.readValue(json, Lease.class));
    }
}
