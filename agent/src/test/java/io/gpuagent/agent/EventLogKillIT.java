package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.nvml.fake.FakeNvml;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The event log survives {@code kill -9}: the packaged agent serves XIDs injected through the fake driver,
 * is killed with SIGKILL right after serving the last one, and after a restart on the same state directory
 * still serves every event it had served, with the same ids, and numbers new events after them.
 */
class EventLogKillIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyServedEventSurvivesKill9AndRestart() throws Exception {
        try (PackagedAgent agent = PackagedAgent.named("event-log-kill").start()) {
            Map<Long, JsonNode> served = new LinkedHashMap<>();
            agent.awaitWatching();
            long before = events(agent, -1).get("lastId").asLong();
            // Several batches, so that the kill comes right after an acknowledged write, not after a quiet spell.
            // A different warning XID per batch: a repeat of the same XID on a GPU within a minute is coalesced
            // into one summary event (issue 11), and this test counts events, one per XID.
            int[] codes = {13, 31, 43, 45, 94};
            for (int batch = 0; batch < codes.length; batch++) {
                StringBuilder scenario = new StringBuilder("gpus = 8\n");
                for (int gpu = 0; gpu < 8; gpu++) {
                    scenario.append("event.").append(FakeNvml.nextEventNumber()).append(" = ").append(gpu).append(" xid ")
                            .append(codes[batch]).append('\n');
                }
                agent.scenario(scenario.toString());
                int wanted = 8 * (batch + 1);
                agent.await(Duration.ofSeconds(10), () -> {
                    JsonNode events = events(agent, before).get("events");
                    long xids = 0;
                    for (JsonNode e : events) {
                        served.put(e.get("id").asLong(), e);
                        xids += "xid".equals(e.get("kind").asText()) ? 1 : 0;
                    }
                    assertTrue(xids >= wanted, "XIDs served: " + xids + " of " + wanted);
                });
            }
            agent.kill9();   // SIGKILL: no shutdown hooks, no flush
            assertTrue(served.size() >= 40, "served " + served.size());

            agent.scenario("gpus = 8\n");
            agent.restart();
            agent.await(PackagedAgent.START, () -> assertEquals(200, agent.status("/v1/events")));
            long firstServed = served.keySet().iterator().next();
            JsonNode page = events(agent, firstServed - 1);
            Map<Long, JsonNode> after = new LinkedHashMap<>();
            page.get("events").forEach(e -> after.put(e.get("id").asLong(), e));
            for (Map.Entry<Long, JsonNode> e : served.entrySet()) {
                assertEquals(e.getValue(), after.get(e.getKey()), "event " + e.getKey() + " after kill -9 and restart");
            }
            long maxServed = served.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
            assertTrue(page.get("lastId").asLong() >= maxServed);

            // New events continue the numbering.
            agent.awaitWatching();
            agent.scenario("gpus = 8\nevent." + FakeNvml.nextEventNumber() + " = 2 xid 13\n");
            agent.await(Duration.ofSeconds(10), () -> {
                JsonNode events = events(agent, maxServed).get("events");
                assertTrue(events.size() >= 1, events.toString());
                assertTrue(events.get(0).get("id").asLong() > maxServed);
            });
        }
    }

    private static JsonNode events(PackagedAgent agent, long after) {
        try {
            return JSON.readTree(agent.body("/v1/events?limit=1000" + (after >= 0 ? "&since=" + after : "")));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
