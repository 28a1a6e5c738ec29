package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * {@code kill -9} in the middle of lease and action churn: six scheduler clients grant and release leases,
 * two operator clients cordon and uncordon GPU 6 and GPU 7 over and over, and the agent is killed while their
 * requests are in flight. Restarted on the same state directory it loads every journal (no refusal to start,
 * every gpu_agent_journal_up 1), no GPU is in two live leases (nor was one ever granted while a client held it),
 * every acknowledged lease not being released is there, and each churned GPU is cordoned exactly as its last
 * acknowledged cordon or uncordon left it.
 */
class FaultInjectionKillDuringChurnIT {

    static final String CASE = "kill -9 during lease and action churn";
    static final String OPERATOR = "churn-operator-" + System.nanoTime();
    static final String SCHEDULER = "churn-scheduler-" + System.nanoTime();
    static final int LEASE_CLIENTS = 6;
    static final int[] CHURNED_GPUS = {6, 7};
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void journalsLoadAndNoGpuIsGrantedTwiceAfterKill9() throws Exception {
        Path dir = Path.of("target", "it-agents").toAbsolutePath();
        try (PackagedAgent agent = PackagedAgent.named("fault-kill-churn")
                .property("gpu-agent.auth.operator-token-file", PackagedAgent.writeCredential(dir.resolve("churn-operator"), OPERATOR))
                .property("gpu-agent.auth.scheduler-token-file", PackagedAgent.writeCredential(dir.resolve("churn-scheduler"), SCHEDULER))
                .start()) {
            agent.awaitScrape();
            agent.await(PackagedAgent.START, () -> assertEquals(8, agent.leasableGpus()));

            Map<String, List<String>> granted = new ConcurrentHashMap<>();       // leaseId -> GPUs, acknowledged 201
            Set<String> releaseAsked = ConcurrentHashMap.newKeySet();            // a DELETE was sent (its outcome may be unknown)
            Map<String, String> holders = new ConcurrentHashMap<>();             // GPU uuid -> lease a client holds now
            List<String> doubleGrants = new ArrayList<>();
            Map<Integer, Boolean> cordonAcked = new ConcurrentHashMap<>();       // GPU -> last acknowledged: cordoned?
            Set<Integer> actionInFlight = ConcurrentHashMap.newKeySet();
            AtomicInteger releases = new AtomicInteger();
            AtomicInteger actions = new AtomicInteger();
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger jobs = new AtomicInteger();
            ExecutorService clients = Executors.newFixedThreadPool(LEASE_CLIENTS + CHURNED_GPUS.length);
            for (int c = 0; c < LEASE_CLIENTS; c++) {
                clients.submit(() -> {
                    while (running.get()) {
                        HttpResponse<String> r = agent.trySend("POST", "/v1/leases", SCHEDULER, "{\"jobId\":\"churn-"
                                + jobs.incrementAndGet() + "\",\"gpus\":" + (1 + ThreadLocalRandom.current().nextInt(2)) + "}");
                        if (r == null) {
                            return null;   // killed
                        }
                        if (r.statusCode() != 201) {
                            continue;      // 409: no GPU free now
                        }
                        JsonNode l = JSON.readTree(r.body());
                        String id = l.get("leaseId").asText();
                        List<String> gpus = new ArrayList<>();
                        l.get("gpus").forEach(g -> gpus.add(g.asText()));
                        granted.put(id, gpus);
                        for (String g : gpus) {
                            String other = holders.putIfAbsent(g, id);
                            if (other != null) {
                                synchronized (doubleGrants) {
                                    doubleGrants.add(g + " in " + other + " and " + id);
                                }
                            }
                        }
                        Thread.sleep(ThreadLocalRandom.current().nextInt(20));
                        gpus.forEach(g -> holders.remove(g, id));   // before asking: the agent may free them at once
                        releaseAsked.add(id);
                        HttpResponse<String> d = agent.trySend("DELETE", "/v1/leases/" + id, SCHEDULER, null);
                        if (d == null) {
                            return null;
                        }
                        releases.incrementAndGet();
                    }
                    return null;
                });
            }
            for (int gpu : CHURNED_GPUS) {
                clients.submit(() -> {
                    boolean cordon = true;
                    while (running.get()) {
                        actionInFlight.add(gpu);
                        HttpResponse<String> r = agent.trySend("POST", "/v1/gpus/" + gpu + (cordon ? "/cordon" : "/uncordon"),
                                OPERATOR, "{\"reason\":\"churn\"}");
                        if (r == null) {
                            return null;   // killed: this one's outcome is unknown, it stays in flight
                        }
                        if (r.statusCode() == 200) {
                            cordonAcked.put(gpu, cordon);
                            actions.incrementAndGet();
                            cordon = !cordon;
                        }
                        actionInFlight.remove(gpu);
                    }
                    return null;
                });
            }
            try {
                agent.await(Duration.ofSeconds(30), () -> assertTrue(granted.size() >= 100 && actions.get() >= 20,
                        granted.size() + " leases granted, " + actions.get() + " cordons/uncordons so far"));
                Thread.sleep(ThreadLocalRandom.current().nextInt(200));   // somewhere in the traffic
                agent.kill9();
            } finally {
                running.set(false);
                clients.shutdown();
                clients.close();   // the clients end once their request fails (the agent is gone) or running is false
            }
            int grantedBeforeKill = granted.size();

            long t0 = System.nanoTime();
            agent.restart();
            agent.await(PackagedAgent.START, () -> assertEquals(200, agent.status("/v1/leases")));
            long loadMs = (System.nanoTime() - t0) / 1_000_000;
            String log = agent.log();
            assertFalse(log.contains("refusing to start") || log.toLowerCase().contains("corrupt"), log);
            String metrics = agent.body("/metrics");
            List<String> journals = metrics.lines().filter(l -> l.startsWith("gpu_agent_journal_up{")).toList();
            assertFalse(journals.isEmpty(), "no gpu_agent_journal_up in /metrics");
            journals.forEach(l -> assertTrue(l.endsWith(" 1.0"), l));

            Map<String, JsonNode> live = new HashMap<>();
            JSON.readTree(agent.body("/v1/leases")).forEach(l -> live.put(l.get("leaseId").asText(), l));
            Set<String> held = new HashSet<>();
            List<String> twice = new ArrayList<>();
            for (JsonNode l : live.values()) {
                l.get("gpus").forEach(g -> {
                    if (!held.add(g.asText())) {
                        twice.add(g.asText());
                    }
                });
            }
            List<String> lost = new ArrayList<>();
            granted.forEach((id, gpus) -> {
                if (!releaseAsked.contains(id) && !live.containsKey(id)) {
                    lost.add(id);
                }
            });
            JsonNode recovery = JSON.readTree(agent.body("/v1/recovery"));
            Set<Integer> cordoned = new HashSet<>();
            Map<String, Integer> indexOf = new HashMap<>();
            JSON.readTree(agent.body("/v1/gpus")).path("gpus").forEach(g -> indexOf.put(g.path("uuid").asText(), g.path("index").asInt()));
            recovery.path("cordoned").forEach(c -> cordoned.add(indexOf.getOrDefault(c.path("uuid").asText(), -1)));
            List<String> cordonWrong = new ArrayList<>();
            for (int gpu : CHURNED_GPUS) {
                Boolean last = cordonAcked.get(gpu);
                if (last != null && !actionInFlight.contains(gpu) && last != cordoned.contains(gpu)) {
                    cordonWrong.add("GPU " + gpu + " last acknowledged " + (last ? "cordon" : "uncordon") + ", after restart "
                            + (cordoned.contains(gpu) ? "cordoned" : "not cordoned"));
                }
            }
            boolean met = FaultReport.row(CASE, grantedBeforeKill + " leases granted, " + releases.get() + " released, "
                    + actions.get() + " cordons/uncordons before kill -9; restart answered in " + loadMs + " ms with every "
                    + "journal loaded (" + journals.size() + " up); " + live.size() + " live leases, GPUs in two leases: "
                    + twice.size() + ", granted while held: " + doubleGrants.size() + ", acknowledged leases lost: "
                    + lost.size() + ", cordon state wrong: " + cordonWrong.size(),
                    "journals load, no double grant, nothing acknowledged lost",
                    twice.isEmpty() && doubleGrants.isEmpty() && lost.isEmpty() && cordonWrong.isEmpty());
            assertEquals(List.of(), twice, "GPUs in two live leases after the restart: " + live);
            assertEquals(List.of(), doubleGrants, "GPUs granted while another client held them");
            assertEquals(List.of(), lost, "acknowledged leases lost by kill -9");
            assertEquals(List.of(), cordonWrong, "cordons after the restart; recovery: " + recovery);
            assertTrue(met);
        }
    }
}
