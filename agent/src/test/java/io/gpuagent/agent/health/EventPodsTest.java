package io.gpuagent.agent.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.kubelet.PodMap;
import io.gpuagent.agent.kubelet.PodRef;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Events of a GPU or MIG device name the containers the kubelet's last good answer says hold it. */
class EventPodsTest {

    private static final String GPU = "GPU-11111111-1111-4111-8111-111111111111";
    private static final String MIG = "MIG-22222222-2222-4222-8222-222222222222";

    private static final PodMap HELD = new PodMap(Map.of(
            GPU, List.of(new PodRef("ml", "train", "main", "")),
            MIG, List.of(new PodRef("ml", "small", "side", ""))));

    @Test
    void aGpusEventNamesItsHolders() {
        AgentEvent e = EventLogProducer.withPods(AgentEvent.of(1, GPU, AgentEvent.XID, "xid", "79", "fell off"), HELD);
        assertEquals(List.of(new AgentEvent.Pod("ml", "train", "main")), e.pods());
    }

    @Test
    void aMigDevicesEventNamesTheMigDevicesHoldersNotTheGpus() {
        AgentEvent e = EventLogProducer.withPods(
                AgentEvent.of(1, GPU, AgentEvent.XID, "xid", "43", "app fault").withMig(MIG, "1/7"), HELD);
        assertEquals(List.of(new AgentEvent.Pod("ml", "small", "side")), e.pods());
    }

    @Test
    void nodeEventsAndFreeGpusNameNoOne() {
        assertNull(EventLogProducer.withPods(AgentEvent.of(null, null, AgentEvent.NVML, "nvml", "DOWN", "gone"), HELD).pods());
        assertNull(EventLogProducer.withPods(AgentEvent.of(0, "GPU-0", AgentEvent.XID, "xid", "79", "x"), HELD).pods());
        assertNull(EventLogProducer.withPods(AgentEvent.of(1, GPU, AgentEvent.XID, "xid", "79", "x"), PodMap.EMPTY).pods());
    }

    @Test
    void manyHoldersAreCutToTheBound() {
        List<PodRef> many = IntStream.range(0, 50).mapToObj(i -> new PodRef("ns", "p" + i, "c", "")).toList();
        AgentEvent e = EventLogProducer.withPods(AgentEvent.of(1, GPU, AgentEvent.XID, "xid", "79", "x"),
                new PodMap(Map.of(GPU, many)));
        assertEquals(AgentEvent.MAX_PODS, e.pods().size());
        assertEquals("p0", e.pods().getFirst().pod());
    }
}
