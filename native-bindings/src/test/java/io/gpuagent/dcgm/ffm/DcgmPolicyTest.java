package io.gpuagent.dcgm.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.dcgm.Dcgm;
import io.gpuagent.dcgm.Entity;
import io.gpuagent.dcgm.PolicyCondition;
import io.gpuagent.dcgm.PolicyRegistration;
import io.gpuagent.dcgm.PolicyViolation;
import io.gpuagent.nvml.fake.FakeNvml;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Policy violations arrive through the upcall from the fake DCGM's own native thread: copied, queued (bounded, drops
 * counted), never after unregister.
 */
class DcgmPolicyTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @AfterEach
    void defaults() {
        FakeDcgm.scenario();
    }

    /** A policy line's number; each fires once per process, so every line needs its own. */
    private static long fresh() {
        return FakeNvml.nextEventNumber();
    }

    @Test
    void aBurstOfAThousandViolationsArrivesFromTheFakesThread() throws Exception {
        try (Dcgm dcgm = FakeDcgm.embedded()) {
            long group = dcgm.createGroup("policy", List.of(Entity.gpu(3), Entity.gpu(4)));
            Set<PolicyCondition> watched = EnumSet.of(PolicyCondition.XID, PolicyCondition.DBE);
            dcgm.setPolicy(group, watched);
            try (PolicyRegistration reg = dcgm.registerPolicy(group, watched, 2000)) {
                FakeDcgm.scenario("dcgm.policy." + fresh() + " = 3 xid 79 x1000", "dcgm.policy." + fresh() + " = 4 dbe 2",
                        "dcgm.policy." + fresh() + " = 6 xid 48");
                List<PolicyViolation> got = new ArrayList<>();
                while (got.size() < 1001) {
                    Optional<PolicyViolation> v = reg.poll(WAIT);
                    assertTrue(v.isPresent(), "only " + got.size() + " violations arrived");
                    got.add(v.get());
                }
                assertEquals(1000, got.stream().filter(v -> v.equals(new PolicyViolation(PolicyCondition.XID,
                        0x40, 3, v.timestampMicros(), 79))).count());
                PolicyViolation dbe = got.stream().filter(v -> v.condition() == PolicyCondition.DBE).findFirst().orElseThrow();
                assertEquals(4, dbe.gpuId());
                assertEquals(2, dbe.value());
                assertTrue(dbe.timestampMicros() > 0);
                assertEquals(0, reg.dropped());
            }
            dcgm.destroyGroup(group);
        }
    }

    @Test
    void aFullQueueDropsAndCountsInsteadOfBlockingDcgmsThread() throws Exception {
        try (Dcgm dcgm = FakeDcgm.embedded()) {
            long group = dcgm.createGroup("policy", List.of(Entity.gpu(0)));
            dcgm.setPolicy(group, EnumSet.of(PolicyCondition.XID));
            try (PolicyRegistration reg = dcgm.registerPolicy(group, EnumSet.of(PolicyCondition.XID), 10)) {
                FakeDcgm.scenario("dcgm.policy." + fresh() + " = 0 xid 31 x100", "dcgm.policy." + fresh() + " = 0 xid 13");
                FakeNvml.await(() -> reg.dropped() == 91, "91 of 101 violations dropped (queue of 10)");
                assertEquals(10, reg.drain().size());
            }
            dcgm.destroyGroup(group);
        }
    }

    @Test
    void aViolationWhileTheHostEngineIsGoneArrivesOnceItIsBack() throws Exception {
        try (Dcgm dcgm = Dcgm.remote(FakeDcgm.LIBRARY.toString(), "127.0.0.1", Duration.ofSeconds(1))) {
            long group = dcgm.createGroup("policy", List.of(Entity.gpu(2)));
            dcgm.setPolicy(group, EnumSet.of(PolicyCondition.POWER));
            try (PolicyRegistration reg = dcgm.registerPolicy(group, EnumSet.of(PolicyCondition.POWER), 10)) {
                String violation = "dcgm.policy." + fresh() + " = 2 power 712";
                FakeDcgm.scenario("dcgm.hostengine_gone = 1", violation);
                FakeDcgm.scenario(violation);
                PolicyViolation v = reg.poll(WAIT).orElseThrow();
                assertEquals(new PolicyViolation(PolicyCondition.POWER, 0x10, 2, v.timestampMicros(), 712), v);
            }
            dcgm.destroyGroup(group);
        }
    }

    @Test
    void nothingArrivesAfterUnregisterAndCloseUnregistersWhatIsLeft() throws Exception {
        Dcgm dcgm = FakeDcgm.embedded();
        long group = dcgm.createGroup("policy", List.of(Entity.gpu(1)));
        dcgm.setPolicy(group, EnumSet.of(PolicyCondition.THERMAL, PolicyCondition.XID));
        PolicyRegistration gone = dcgm.registerPolicy(group, EnumSet.of(PolicyCondition.THERMAL), 10);
        gone.close();
        PolicyRegistration kept = dcgm.registerPolicy(group, EnumSet.of(PolicyCondition.XID), 10);
        FakeDcgm.scenario("dcgm.policy." + fresh() + " = 1 thermal 95", "dcgm.policy." + fresh() + " = 1 xid 94");
        PolicyViolation xid = kept.poll(WAIT).orElseThrow();
        assertEquals(new PolicyViolation(PolicyCondition.XID, 0x40, 1, xid.timestampMicros(), 94), xid);
        assertEquals(List.of(), gone.drain());
        // The strict fake aborts a dcgmShutdown with a callback still registered: close unregisters first.
        dcgm.close();
        assertEquals(Optional.empty(), kept.poll(Duration.ZERO));
    }
}
