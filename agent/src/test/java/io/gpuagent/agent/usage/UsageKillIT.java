package io.gpuagent.agent.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.PackagedAgent;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The packaged agent with scripted energy counters (power 0: the counter moves only when the scenario sets it):
 * a lease's energy is exact to the millijoule across a {@code kill -9} and restart mid-lease (the counter kept
 * counting while the agent was down) and across a counter reset after it, and the restart gap is flagged.
 */
class UsageKillIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String TOKEN = "it-token-" + System.nanoTime();

    private static String scenario(long energyMj) {
        return "gpus = 8\ngpu.*.power_mw = 0\ngpu.*.energy_mj = " + energyMj + "\n";
    }

    @Test
    void energyIsExactAcrossKill9AndRestartMidLeaseAndTheGapIsFlagged() throws Exception {
        Path token = PackagedAgent.writeCredential(Path.of("target", "it-agents", "usage-kill-token"), TOKEN);
        try (PackagedAgent agent = PackagedAgent.named("usage-kill").scenario(scenario(1_000))
                .property("gpu-agent.auth.token-file", token)
                .property("gpu-agent.sample-interval", "200ms")
                .property("gpu-agent.usage.checkpoint-interval", "200ms")
                .property("gpu-agent.cost.energy-price", "0.30")
                .property("gpu-agent.cost.currency", "EUR").start()) {
            agent.awaitScrape();
            HttpResponse<String> granted = agent.send("POST", "/v1/leases", TOKEN,
                    "{\"jobId\":\"kill-job\",\"gpus\":1,\"ttlSeconds\":600}");
            assertEquals(201, granted.statusCode(), granted.body());
            String id = JSON.readTree(granted.body()).get("leaseId").asText();

            agent.scenario(scenario(5_000));
            awaitEnergy(agent, id, "4.000");
            Path journal = agent.stateDir().resolve("usage.jsonl");
            agent.await(WAIT, () -> assertTrue(read(journal).contains("\"counterMj\":5000"), "a checkpoint at 5000 mJ"));
            agent.kill9();

            agent.scenario(scenario(9_000));   // the GPU went on using energy while the agent was down
            agent.restart();
            agent.await(WAIT, () -> assertEquals(200, agent.get("/v1/leases/" + id + "/usage").statusCode()));
            JsonNode resumed = awaitEnergy(agent, id, "8.000");
            assertTrue(resumed.get("estimated").asBoolean(), resumed.toString());
            assertEquals(1, resumed.get("unobserved").size(), resumed.toString());

            agent.scenario(scenario(200));     // the driver reloaded: the counter restarts
            awaitEnergy(agent, id, "8.200");
            agent.scenario(scenario(700));
            awaitEnergy(agent, id, "8.700");

            HttpResponse<String> released = agent.send("DELETE", "/v1/leases/" + id, TOKEN, null);
            assertEquals(200, released.statusCode(), released.body());
            JsonNode last = JSON.readTree(released.body());
            assertEquals(0, new BigDecimal("8.700").compareTo(last.get("energyJoules").decimalValue()), last.toString());
            assertEquals(1, last.get("gpus").get(0).get("counterResets").asInt());
            assertTrue(last.get("estimated").asBoolean());
            assertFalse(last.get("live").asBoolean());
            assertEquals("EUR", last.get("cost").get("currency").asText());
        }
    }

    private static JsonNode awaitEnergy(PackagedAgent agent, String id, String joules) {
        JsonNode[] out = new JsonNode[1];
        agent.await(WAIT, () -> {
            try {
                JsonNode u = JSON.readTree(agent.body("/v1/leases/" + id + "/usage"));
                assertEquals(0, new BigDecimal(joules).compareTo(u.get("energyJoules").decimalValue()), u.toString());
                out[0] = u;
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        });
        return out[0];
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
