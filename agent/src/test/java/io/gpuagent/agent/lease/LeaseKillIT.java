package io.gpuagent.agent.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.PackagedAgent;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Leases survive {@code kill -9}: the packaged agent serves grants and releases from 16 concurrent clients
 * (4 of them keep the one GPU they got) and is killed with SIGKILL while requests are in flight. After a restart on the same state directory,
 * every lease that got a 201 (and no 200 for its release) is there with the same GPUs and fencing token,
 * every lease whose release got a 200 is gone, no GPU is in two leases, and new grants get higher tokens.
 */
class LeaseKillIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "it-token";
    private static final Duration START = Duration.ofSeconds(60);
    private static final int CLIENTS = 16;
    /** Clients that take one GPU and keep it; the others grant and release over and over. */
    private static final int HOLDERS = 4;

    /** What a client saw for one lease. */
    private record Seen(String leaseId, List<String> gpus, long fencingToken) {
    }

    @Test
    void everyAcknowledgedLeaseSurvivesKill9AndNoGpuIsGrantedTwice() throws Exception {
        Path tokenFile = PackagedAgent.writeCredential(Path.of("target", "it-agents", "lease-kill-token"), TOKEN);
        Map<String, Seen> granted = new ConcurrentHashMap<>();
        Set<String> released = ConcurrentHashMap.newKeySet();
        Set<String> releaseInFlight = ConcurrentHashMap.newKeySet();
        AtomicInteger refused = new AtomicInteger();
        try (PackagedAgent agent = PackagedAgent.named("lease-kill").property("gpu-agent.auth.token-file", tokenFile).start()) {
            waitAllLeasable(agent);
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicBoolean killed = new AtomicBoolean();
            AtomicInteger jobs = new AtomicInteger();
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            for (int c = 0; c < CLIENTS; c++) {
                boolean holder = c < HOLDERS;
                clients.submit(() -> {
                    while (running.get()) {
                        HttpResponse<String> r = agent.trySend("POST", "/v1/leases", TOKEN, "{\"jobId\":\"kill-" + jobs.incrementAndGet()
                                + "\",\"gpus\":" + (holder ? 1 : 1 + ThreadLocalRandom.current().nextInt(2)) + ",\"ttlSeconds\":3600}");
                        if (r == null) {
                            return null;   // the agent is gone
                        }
                        if (r.statusCode() == 409) {
                            refused.incrementAndGet();
                            continue;
                        }
                        assertEquals(201, r.statusCode(), r.body());
                        JsonNode l = JSON.readTree(r.body());
                        List<String> gpus = new ArrayList<>();
                        l.get("gpus").forEach(g -> gpus.add(g.asText()));
                        String id = l.get("leaseId").asText();
                        granted.put(id, new Seen(id, gpus, l.get("fencingToken").asLong()));
                        if (holder) {
                            return null;   // held until the kill: these must survive it
                        }
                        Thread.sleep(ThreadLocalRandom.current().nextInt(30));   // held a while: some are live at the kill
                        if (killed.get()) {
                            return null;   // never asked to release: it must survive
                        }
                        releaseInFlight.add(id);
                        HttpResponse<String> d = agent.trySend("DELETE", "/v1/leases/" + id, TOKEN, null);
                        if (d != null && d.statusCode() == 200) {
                            released.add(id);
                            releaseInFlight.remove(id);
                        }
                    }
                    return null;
                });
            }
            agent.await(Duration.ofSeconds(30), () -> assertTrue(granted.size() >= 60 && released.size() >= 20,
                    granted.size() + " granted, " + released.size() + " released so far"));
            // Kill in the middle of the traffic: 16 clients have requests in flight now.
            killed.set(true);
            agent.kill9();   // SIGKILL: no shutdown hooks, no flush
            running.set(false);
            clients.shutdown();
            clients.close();
            assertTrue(refused.get() > 0, "the clients competed for GPUs");

            agent.restart();
            agent.await(START, () -> assertEquals(200, agent.status("/v1/leases")));
            Map<String, JsonNode> live = new HashMap<>();
            JSON.readTree(agent.send("GET", "/v1/leases", TOKEN, null).body()).forEach(l -> live.put(l.get("leaseId").asText(), l));

            int survivorsChecked = 0;
            for (Seen s : granted.values()) {
                boolean acknowledgedRelease = released.contains(s.leaseId());
                boolean unsure = releaseInFlight.contains(s.leaseId());
                JsonNode l = live.get(s.leaseId());
                if (acknowledgedRelease) {
                    assertEquals(null, l, "lease " + s.leaseId() + " was released (200) before the kill");
                } else if (!unsure) {
                    assertTrue(l != null, "acknowledged lease " + s.leaseId() + " lost by kill -9");
                    survivorsChecked++;
                }
                if (l != null) {
                    List<String> gpus = new ArrayList<>();
                    l.get("gpus").forEach(g -> gpus.add(g.asText()));
                    assertEquals(s.gpus(), gpus, "lease " + s.leaseId());
                    assertEquals(s.fencingToken(), l.get("fencingToken").asLong());
                }
            }
            assertTrue(survivorsChecked >= HOLDERS, "only " + survivorsChecked + " acknowledged leases were live at the kill");
            Set<String> held = new HashSet<>();
            for (JsonNode l : live.values()) {
                l.get("gpus").forEach(g -> assertTrue(held.add(g.asText()), "GPU " + g.asText() + " in two leases: " + live));
            }
            // The inventory agrees, and a new grant's token is above every token handed out before the kill.
            long maxOld = granted.values().stream().mapToLong(Seen::fencingToken).max().orElseThrow();
            waitLeasable(agent, 8 - held.size());
            if (held.size() < 8) {
                HttpResponse<String> r = agent.send("POST", "/v1/leases", TOKEN, "{\"jobId\":\"after-restart\",\"gpus\":1}");
                assertEquals(201, r.statusCode(), r.body());
                assertTrue(JSON.readTree(r.body()).get("fencingToken").asLong() > maxOld, r.body());
            }
        }
    }

    private static void waitAllLeasable(PackagedAgent agent) {
        waitLeasable(agent, 8);
    }

    private static void waitLeasable(PackagedAgent agent, int wanted) {
        agent.await(START, () -> {
            HttpResponse<String> r = agent.trySend("GET", "/v1/inventory", null, null);
            assertTrue(r != null && r.statusCode() == 200, "inventory not served yet");
            int leasable = 0;
            try {
                for (JsonNode g : JSON.readTree(r.body()).get("gpus")) {
                    leasable += g.get("leasable").asBoolean() ? 1 : 0;
                }
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            assertEquals(wanted, leasable, r.body());
        });
    }
}
