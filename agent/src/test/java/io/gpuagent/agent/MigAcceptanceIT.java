package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.nvml.fake.Machines;
import io.gpuagent.nvml.fake.Promtool;
import io.gpuagent.nvml.fake.Scenario;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Issue 20's acceptance, end to end through the packaged agent on the fake driver: an H100 in MIG mode with
 * 1g.10gb x3 (GPU instances 7, 8, 9) and 3g.40gb x1 (GPU instance 2) is measured per GPU instance in
 * {@code /metrics}, judged per MIG device by {@code /health}, {@code /v1/gpus}, the event log and
 * {@code gpu_agent_mig_device_health}, leased by profile, and not reset under its MIG devices' holders.
 *
 * <p>No instance-scoped XID is fatal by default (docs/faults.md#xid-scope: they are application errors, so a
 * warning): the agents here run with {@code gpu-agent.health.xid-class.43=fatal}, the override the doc names
 * for "an XID 43 on GPU instance 2 turns only that MIG device UNHEALTHY".
 */
class MigAcceptanceIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START = Duration.ofSeconds(90);
    /** Long enough for a sweep, the health model and a scrape on a loaded 2-core machine. */
    private static final Duration SETTLE = Duration.ofSeconds(30);
    /** The scheduler's credential (leases) and the operator's (recovery actions), each its own. */
    private static final String SCHEDULER = "it-mig-scheduler-" + System.nanoTime();
    private static final String OPERATOR = "it-mig-operator-" + System.nanoTime();
    private static final String HOSTNAME = "mig-node";
    /** An instance-scoped XID (GPU stopped processing), classed fatal by these agents' configuration. */
    private static final int INSTANCE_XID = 43;
    /** A GPU-wide XID (double-bit ECC), fatal by default. */
    private static final int GPU_WIDE_XID = 48;
    /** The labels of a GPU instance's DCGM series, in the order docs/metrics.md#labels gives them. */
    private static final List<String> INSTANCE_LABELS = List.of("gpu", "UUID", "pci_bus_id", "device", "modelName",
            "GPU_I_PROFILE", "GPU_I_ID", "Hostname", "DCGM_FI_DRIVER_VERSION");
    private static final Pattern SAMPLE = Pattern.compile("^([A-Za-z_:][A-Za-z0-9_:]*)(?:\\{(.*)})? (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    /** One sample line of the exposition: its labels in the order they were written. */
    record Series(String name, LinkedHashMap<String, String> labels, double value) {
        String label(String key) {
            return labels.get(key);
        }
    }

    /**
     * Machines.h100Mig() (8 H100s in MIG mode, GPU 0 the acceptance layout): one series set per GPU instance with
     * the right labels and values, promtool-clean; an XID on GPU instance 2 takes out that MIG device alone, a
     * GPU-wide XID all of them; a pending MIG mode change shows in gpu_agent_mig_mode in the next sweep; a
     * reconfiguration replaces one instance's series, health and address with its successor's.
     */
    @Test
    void aDgxH100InMigModeIsMeasuredAndJudgedPerInstance() throws Exception {
        Scenario machine = Machines.h100Mig().temp(0, 47);
        try (PackagedAgent agent = options("mig-dgx", machine).start()) {
            agent.awaitScrape().awaitWatching();
            JsonNode gpu0 = json(agent.body("/v1/gpus/0"));
            Map<Integer, JsonNode> gi = byGpuInstance(gpu0);
            assertEquals(Set.of(2, 7, 8, 9), gi.keySet(), "GPU 0's MIG devices by GPU instance: " + gpu0.path("migDevices"));

            // 1. Series per GPU instance.
            agent.await(SETTLE, () -> checkInstanceSeries(agent, gpu0));
            String metrics = agent.body("/metrics");
            Promtool.checkMetrics(metrics, Promtool.Lint.DCGM_NAMES);
            List<Series> all = parse(metrics);
            for (int g = 0; g < 8; g++) {
                String gpu = String.valueOf(g);
                assertEquals(List.of(), all.stream().filter(s -> s.name().startsWith("DCGM_FI_")
                                && gpu.equals(s.label("gpu")) && s.label("GPU_I_ID") == null).map(Series::toString).toList(),
                        "GPU " + g + " has GPU instances: none of its own series beside theirs");
                assertEquals(1, select(all, "gpu_agent_mig_mode", Map.of("gpu", gpu, "current", "enabled",
                        "pending", "enabled")).size(), "gpu_agent_mig_mode of GPU " + g);
            }
            assertEquals(List.of(), select(all, "DCGM_FI_DEV_GPU_UTIL", Map.of()), "GPU_UTIL on GPUs in MIG mode");
            // GPU 7 splits GPU instance 2 into three compute instances: four MIG devices, two series sets.
            assertEquals(Set.of("1", "2"), labelValues(select(all, "DCGM_FI_DEV_FB_USED", Map.of("gpu", "7")), "GPU_I_ID"));
            assertEquals(2, select(all, "DCGM_FI_DEV_FB_USED", Map.of("gpu", "7")).size(), "GPU 7's FB_USED series");
            assertEquals(4, select(all, "gpu_agent_mig_device_info", Map.of("gpu", "7")).size(), "GPU 7's MIG devices");
            assertEquals(Set.of("0", "1", "2"), labelValues(select(all, "gpu_agent_mig_device_info",
                    Map.of("gpu", "7", "GPU_I_ID", "2")), "GPU_CI_ID"));

            // 2. An instance-scoped XID on GPU instance 2: that MIG device alone.
            String gi2 = gi.get(2).path("uuid").asText();
            machine.xid(0, INSTANCE_XID, 2);
            agent.scenario(machine.text());
            agent.await(SETTLE, () -> {
                assertEquals("UNHEALTHY", json(agent.body("/v1/gpus/0/2")).path("health").asText(), "/v1/gpus/0/2");
                assertEquals("UNHEALTHY", healthOf(agent, "0/2").path("state").asText(), "/health/gpus/0/2");
                assertEquals(1.0, migHealth(agent, "2", "unhealthy"), "gpu_agent_mig_device_health of 0/2");
            });
            assertEquals(gi2, json(agent.body("/v1/gpus/" + gi2)).path("uuid").asText(), "the MIG device by its MIG- UUID");
            HttpResponse<String> health = agent.get("/health");
            assertEquals(503, health.statusCode(), "an UNHEALTHY MIG device makes /health 503: " + health.body());
            Map<String, String> states = migStates(json(health.body()), 0);
            assertEquals(Map.of("0/2", "UNHEALTHY", "0/7", "HEALTHY", "0/8", "HEALTHY", "0/9", "HEALTHY"), states,
                    "/health: GPU 0's MIG devices");
            assertEquals("HEALTHY", gpuState(json(health.body()), 0), "GPU 0 itself: its MIG devices' faults are theirs");
            String reason = json(health.body()).path("reason").asText();
            assertTrue(reason.contains("0/2"), "/health's reason names the MIG device: " + reason);
            for (int sibling : List.of(7, 8, 9)) {
                assertEquals("HEALTHY", json(agent.body("/v1/gpus/0/" + sibling)).path("health").asText(), "0/" + sibling);
                assertEquals(1.0, migHealth(agent, String.valueOf(sibling), "healthy"), "gpu_agent_mig_device_health of 0/" + sibling);
            }
            assertEquals("HEALTHY", healthOf(agent, "0/7").path("state").asText(), "/health/gpus/0/7");
            JsonNode reasons = healthOf(agent, "0/2").path("reasons");
            assertEquals("XID_" + INSTANCE_XID, reasons.path(0).path("code").asText(), "0/2's reason: " + reasons);
            JsonNode xidEvent = lastEvent(agent, "0/2", "xid");
            assertEquals(String.valueOf(INSTANCE_XID), xidEvent.path("code").asText(), xidEvent.toString());
            assertEquals(gi2, xidEvent.path("migUuid").asText(), "the XID event names the MIG device: " + xidEvent);
            assertEquals("0/2", xidEvent.path("migAddress").asText(), xidEvent.toString());
            assertTrue(xidEvent.path("message").asText().contains("MIG device 0/2"), xidEvent.toString());
            assertEquals("UNHEALTHY", lastEvent(agent, "0/2", "state").path("state").asText(), "0/2's state event");
            assertEquals(xidEvent.path("id").asLong(), lastEvent(agent, gi2, "xid").path("id").asLong(), "?gpu=<MIG- UUID>");

            // 2b. A GPU-wide XID, even one the driver attributes to GPU instance 8: every MIG device of GPU 0.
            machine.xid(0, GPU_WIDE_XID, 8);
            agent.scenario(machine.text());
            agent.await(SETTLE, () -> assertEquals(Map.of("0/2", "UNHEALTHY", "0/7", "UNHEALTHY", "0/8", "UNHEALTHY",
                    "0/9", "UNHEALTHY"), migStates(json(agent.get("/health").body()), 0), "a GPU-wide XID"));
            JsonNode gi7 = healthOf(agent, "0/7");
            assertEquals(List.of(), list(gi7.path("reasons"), "code"), "0/7's own reasons");
            assertEquals(List.of("XID_" + GPU_WIDE_XID), list(gi7.path("inherited"), "code"), "0/7 inherits its GPU's: " + gi7);
            assertEquals("UNHEALTHY", gpuState(json(agent.get("/health").body()), 0), "GPU 0");
            assertEquals(Map.of("1/3", "HEALTHY", "1/4", "HEALTHY", "1/11", "HEALTHY", "1/12", "HEALTHY"),
                    migStates(json(agent.get("/health").body()), 1), "GPU 1's MIG devices");
            agent.await(SETTLE, () -> {
                for (String id : List.of("2", "7", "8", "9")) {
                    assertEquals(1.0, migHealth(agent, id, "unhealthy"), "gpu_agent_mig_device_health of 0/" + id);
                }
            });

            // A clear of the GPU drops its reasons, which its MIG devices inherited; 0/2's own stays until it is cleared.
            assertEquals(200, agent.send("POST", "/v1/gpus/0/health/clear", OPERATOR, null).statusCode());
            agent.await(SETTLE, () -> assertEquals(Map.of("0/2", "UNHEALTHY", "0/7", "HEALTHY", "0/8", "HEALTHY",
                    "0/9", "HEALTHY"), migStates(json(agent.get("/health").body()), 0), "after a clear of GPU 0"));
            HttpResponse<String> cleared = agent.send("POST", "/v1/gpus/0/2/health/clear", OPERATOR, null);
            assertEquals(200, cleared.statusCode(), cleared.body());
            agent.await(SETTLE, () -> assertEquals(200, agent.get("/health").statusCode(), "after a clear of 0/2"));
            assertEquals("HEALTHY", healthOf(agent, "0/2").path("state").asText());

            // 4. A MIG mode change set on GPU 3 (pending: disabled) shows in gpu_agent_mig_mode in the next sweeps.
            long before = sequence(agent);
            machine.migMode(3, true, false);
            agent.scenario(machine.text());
            long[] seenAt = new long[1];
            agent.await(SETTLE, () -> {
                List<Series> mode = select(parse(agent.body("/metrics")), "gpu_agent_mig_mode", Map.of("gpu", "3"));
                seenAt[0] = sequence(agent);
                assertEquals(List.of(Map.of("current", "enabled", "pending", "disabled")),
                        mode.stream().map(s -> Map.of("current", s.label("current"), "pending", s.label("pending"))).toList(),
                        "GPU 3's gpu_agent_mig_mode");
            });
            // The sweep running at the write may have read GPU 3 before it; the one after cannot have. A third
            // allows for the snapshot finishing between the scrape and the sequence read above.
            assertTrue(seenAt[0] <= before + 3, "the pending mode showed only at sweep " + seenAt[0]
                    + ", written after sweep " + before);
            // Its MIG devices stay (the mode changes at the next reset), and so do the other GPUs' modes.
            all = parse(agent.body("/metrics"));
            assertEquals(4, select(all, "gpu_agent_mig_device_info", Map.of("gpu", "3")).size(), "GPU 3's MIG devices");
            assertEquals(1, select(all, "gpu_agent_mig_mode", Map.of("gpu", "0", "pending", "enabled")).size());
            Promtool.checkMetrics(agent.body("/metrics"), Promtool.Lint.DCGM_NAMES);

            // The operator's tools reconfigure GPU 0 (GPU instance 9 destroyed, 10 created): the strict fake aborts
            // on any use of 9's old handles, so the agent must drop them; 9's series, health and address go, 10 comes.
            machine.line("gpu.0.mig.9.profile = none").migInstance(0, 10, "1g.10gb").migMemoryUsed(0, 10, 2048);
            agent.scenario(machine.text());
            agent.await(SETTLE, () -> assertEquals(Set.of("2", "7", "8", "10"), labelValues(select(parse(agent.body("/metrics")),
                    "DCGM_FI_DEV_FB_USED", Map.of("gpu", "0")), "GPU_I_ID"), "GPU 0's instances after the reconfiguration"));
            all = parse(agent.body("/metrics"));
            assertEquals(List.of(2048.0), values(select(all, "DCGM_FI_DEV_FB_USED", Map.of("gpu", "0", "GPU_I_ID", "10"))));
            assertEquals(List.of(), select(all, "gpu_agent_mig_device_info", Map.of("gpu", "0", "GPU_I_ID", "9")));
            assertEquals(List.of(), select(all, "gpu_agent_mig_device_health", Map.of("gpu", "0", "GPU_I_ID", "9")));
            assertEquals(1.0, migHealth(agent, "10", "healthy"), "gpu_agent_mig_device_health of 0/10");
            assertEquals(404, agent.status("/v1/gpus/0/9"), "the destroyed instance's address");
            assertEquals(404, agent.status("/v1/gpus/" + gi.get(9).path("uuid").asText()), "the destroyed instance's MIG- UUID");
            assertEquals("HEALTHY", json(agent.body("/v1/gpus/0/10")).path("health").asText());
            assertEquals(Map.of("0/10", "HEALTHY", "0/2", "HEALTHY", "0/7", "HEALTHY", "0/8", "HEALTHY"),
                    migStates(json(agent.get("/health").body()), 0), "/health after the reconfiguration");
            Promtool.checkMetrics(agent.body("/metrics"), Promtool.Lint.DCGM_NAMES);
            assertTrue(agent.isAlive(), "the agent outlived the reconfiguration");
        }
    }

    /**
     * One H100 in MIG mode (the acceptance layout) beside one whole H100: two 1g.10gb are leased as two MIG-
     * UUIDs on healthy instances; with one of the three 1g.10gb UNHEALTHY a lease of three is refused with the
     * reason and one of two granted; a reset of the GPU under that lease is refused (also once one of its MIG
     * devices has been destroyed), and a drain waits for the lease to end before the reset runs.
     */
    @Test
    void migDevicesAreLeasedByProfileAndTheirGpuIsNotResetUnderThem() throws Exception {
        Scenario machine = Scenario.gpus(2).migMode(0, true, true)
                .migInstance(0, 2, "3g.40gb").migMemoryUsed(0, 2, 18432)
                .migInstance(0, 7, "1g.10gb").migMemoryUsed(0, 7, 4096)
                .migInstance(0, 8, "1g.10gb")
                .migInstance(0, 9, "1g.10gb")
                .gpu(1, "util_gpu", 37);
        try (PackagedAgent agent = options("mig-lease", machine).property("gpu-agent.recovery.reset-command", "true")
                // The fake driver and 'true' need no CAP_SYS_ADMIN: run the same as root or not.
                .property("gpu-agent.recovery.privilege-check", "false")
                .property("gpu-agent.recovery.drain-deadline", "60s").start()) {
            agent.awaitScrape().awaitWatching();
            agent.await(START, () -> assertEquals(1, agent.leasableGpus(), "GPU 1 leasable whole, GPU 0 not"));
            Map<Integer, JsonNode> gi = byGpuInstance(json(agent.body("/v1/gpus/0")));
            List<Series> all = parse(agent.body("/metrics"));
            assertEquals(1, select(all, "DCGM_FI_DEV_GPU_UTIL", Map.of("gpu", "1")).size(), "GPU_UTIL of the whole GPU");
            assertEquals(List.of(), select(all, "DCGM_FI_DEV_GPU_UTIL", Map.of("gpu", "0")), "GPU_UTIL of the MIG GPU");
            assertEquals(Set.of("2", "7", "8", "9"), labelValues(select(all, "DCGM_FI_DEV_FB_USED", Map.of("gpu", "0")), "GPU_I_ID"));

            // A whole-GPU lease never takes the GPU in MIG mode.
            HttpResponse<String> whole = lease(agent, "{\"jobId\":\"whole-2\",\"gpus\":2}");
            assertEquals(409, whole.statusCode(), whole.body());

            // 3. Two 1g.10gb: two MIG- UUIDs of GPU 0's healthy 1g.10gb instances, and CUDA_VISIBLE_DEVICES lists them.
            Set<String> oneG = Set.of(gi.get(7).path("uuid").asText(), gi.get(8).path("uuid").asText(),
                    gi.get(9).path("uuid").asText());
            HttpResponse<String> two = lease(agent, migLease("pair", 2));
            assertEquals(201, two.statusCode(), two.body());
            JsonNode pair = json(two.body());
            List<String> uuids = list(pair.path("gpus"), null);
            assertEquals(2, uuids.size(), two.body());
            assertTrue(oneG.containsAll(uuids), "GPU 0's 1g.10gb devices " + oneG + ", leased " + uuids);
            assertTrue(uuids.stream().allMatch(u -> u.startsWith("MIG-")), uuids.toString());
            assertEquals(String.join(",", uuids), pair.path("env").path("CUDA_VISIBLE_DEVICES").asText(), two.body());
            for (String u : uuids) {
                assertEquals("HEALTHY", json(agent.body("/v1/gpus/" + u)).path("health").asText(), u);
            }
            assertEquals(List.of("1g.10gb", "1g.10gb"), list(pair.path("mig"), "profile"), two.body());
            assertEquals(200, agent.send("DELETE", "/v1/leases/" + pair.path("leaseId").asText(), SCHEDULER, null).statusCode());

            // One of the three 1g.10gb (GPU instance 9) turns UNHEALTHY: three are refused, two granted.
            machine.xid(0, INSTANCE_XID, 9);
            agent.scenario(machine.text());
            agent.await(SETTLE, () -> assertEquals("UNHEALTHY", json(agent.body("/v1/gpus/0/9")).path("health").asText()));
            HttpResponse<String> three = lease(agent, migLease("three", 3));
            assertEquals(409, three.statusCode(), three.body());
            String why = json(three.body()).path("detail").asText();
            assertTrue(why.contains("3 MIG device(s) of profile 1g.10gb asked, 2 leasable"), why);
            assertTrue(why.contains("0/9") && why.contains("UNHEALTHY"), "the refusal names the unhealthy device: " + why);
            HttpResponse<String> again = lease(agent, migLease("again", 2));
            assertEquals(201, again.statusCode(), again.body());
            JsonNode held = json(again.body());
            assertEquals(Set.of(gi.get(7).path("uuid").asText(), gi.get(8).path("uuid").asText()),
                    Set.copyOf(list(held.path("gpus"), null)), "the two healthy 1g.10gb");
            // The leased instances' series carry the job (dcgm-exporter's hpc_job), the others none.
            agent.await(SETTLE, () -> {
                List<Series> metrics = parse(agent.body("/metrics"));
                Map<String, String> jobs = new TreeMap<>();
                select(metrics, "DCGM_FI_DEV_FB_USED", Map.of("gpu", "0"))
                        .forEach(s -> jobs.put(s.label("GPU_I_ID"), String.valueOf(s.label("hpc_job"))));
                assertEquals(Map.of("2", "null", "7", "again", "8", "again", "9", "null"), jobs, "hpc_job by GPU instance");
                assertEquals(Set.copyOf(list(held.path("gpus"), null)),
                        labelValues(select(metrics, "gpu_agent_gpu_leased", Map.of("gpu", "0")), "UUID"),
                        "gpu_agent_gpu_leased: one series per leased MIG device");
            });
            Promtool.checkMetrics(agent.body("/metrics"), Promtool.Lint.DCGM_NAMES);

            // The operator destroys GPU instance 8 under the lease (nvidia-mig-parted): the lease still holds GPU 0.
            machine.line("gpu.0.mig.8.profile = none");
            agent.scenario(machine.text());
            agent.await(SETTLE, () -> assertEquals(404, agent.status("/v1/gpus/0/8"), "GPU instance 8 destroyed"));

            // 5. A reset of GPU 0 while a lease holds two of its MIG devices: refused, naming the job.
            HttpResponse<String> reset = agent.send("POST", "/v1/gpus/0/reset", OPERATOR, null);
            assertEquals(409, reset.statusCode(), reset.body());
            String refusal = json(reset.body()).path("detail").asText();
            assertTrue(refusal.contains("not drained") && refusal.contains("again"), "the refusal names the lease's job: " + refusal);
            // A MIG device has no reset of its own, forced or not.
            HttpResponse<String> migReset = agent.send("POST", "/v1/gpus/" + gi.get(7).path("uuid").asText() + "/reset?force=true",
                    OPERATOR, null);
            assertEquals(400, migReset.statusCode(), migReset.body());
            // Drain first: the drain waits while the lease holds MIG devices of the GPU, and ends when it is released.
            HttpResponse<String> drain = agent.send("POST", "/v1/gpus/0/drain", OPERATOR, null);
            assertEquals(202, drain.statusCode(), drain.body());
            String drainId = json(drain.body()).path("actionId").asText();
            long drainSweep = sequence(agent);
            agent.await(SETTLE, () -> assertTrue(sequence(agent) >= drainSweep + 3, "three more sweeps"));
            assertEquals("running", json(agent.body("/v1/actions/" + drainId)).path("status").asText(),
                    "the drain, while the lease holds 0/7 and the destroyed 0/8");
            assertEquals(200, agent.send("DELETE", "/v1/leases/" + held.path("leaseId").asText(), SCHEDULER, null).statusCode());
            agent.await(SETTLE, () -> assertEquals("succeeded",
                    json(agent.body("/v1/actions/" + drainId)).path("status").asText(), "drain " + drainId));
            HttpResponse<String> accepted = agent.send("POST", "/v1/gpus/0/reset", OPERATOR, null);
            assertEquals(202, accepted.statusCode(), accepted.body());
            String resetId = json(accepted.body()).path("actionId").asText();
            agent.await(SETTLE, () -> assertEquals("succeeded",
                    json(agent.body("/v1/actions/" + resetId)).path("status").asText(), "reset " + resetId));
        }
    }

    private static PackagedAgent.Options options(String name, Scenario scenario) {
        Path tokens = Path.of("target", "it-agents", name + "-tokens");
        return PackagedAgent.named(name).scenario(scenario.text())
                .property("gpu-agent.auth.scheduler-token-file", PackagedAgent.writeCredential(tokens.resolve("scheduler"), SCHEDULER))
                .property("gpu-agent.auth.operator-token-file", PackagedAgent.writeCredential(tokens.resolve("operator"), OPERATOR))
                .property("gpu-agent.hostname", HOSTNAME)
                .property("gpu-agent.health.xid-class." + INSTANCE_XID, "fatal")
                .property("gpu-agent.sample-interval", "500ms")
                .property("gpu-agent.gpu-deadline", "400ms");
    }

    /** GPU 0's series per GPU instance: labels, their order and values, against the API's view of the GPU. */
    private static void checkInstanceSeries(PackagedAgent agent, JsonNode gpu0) {
        String driver = json(agent.body("/health")).path("nvml").path("driverVersion").asText();
        List<Series> all = parse(agent.body("/metrics"));
        Map<Integer, JsonNode> gi = byGpuInstance(gpu0);
        List<Series> fbUsed = select(all, "DCGM_FI_DEV_FB_USED", Map.of("gpu", "0"));
        assertEquals(4, fbUsed.size(), "one FB_USED per GPU instance of GPU 0: " + fbUsed);
        Map<String, Double> used = new TreeMap<>();
        for (Series s : fbUsed) {
            assertEquals(INSTANCE_LABELS, List.copyOf(s.labels().keySet()), "labels of " + s);
            JsonNode mig = gi.get(Integer.parseInt(s.label("GPU_I_ID")));
            Map<String, String> expected = new LinkedHashMap<>();
            expected.put("gpu", "0");
            expected.put("UUID", gpu0.path("uuid").asText());
            expected.put("pci_bus_id", gpu0.path("pciBusId").asText());
            expected.put("device", gpu0.path("device").asText());
            expected.put("modelName", gpu0.path("name").asText());
            expected.put("GPU_I_PROFILE", mig.path("profile").asText());
            expected.put("GPU_I_ID", s.label("GPU_I_ID"));
            expected.put("Hostname", HOSTNAME);
            expected.put("DCGM_FI_DRIVER_VERSION", driver);
            assertEquals(expected, s.labels(), "labels of " + s);
            used.put(s.label("GPU_I_ID") + " " + s.label("GPU_I_PROFILE"), s.value());
        }
        // The scenario's memory per GPU instance (h100-mig.conf: 18 GiB on GI 2, 4 GiB on GI 7, nothing else).
        assertEquals(Map.of("2 3g.40gb", 18432.0, "7 1g.10gb", 4096.0, "8 1g.10gb", 0.0, "9 1g.10gb", 0.0), used);
        // FB_FREE + FB_USED is each instance's own memory, not the GPU's.
        for (Series free : select(all, "DCGM_FI_DEV_FB_FREE", Map.of("gpu", "0"))) {
            JsonNode mig = gi.get(Integer.parseInt(free.label("GPU_I_ID")));
            assertEquals(mig.path("memoryMib").asDouble(), free.value() + used.get(free.label("GPU_I_ID") + " "
                    + free.label("GPU_I_PROFILE")), "FB_FREE + FB_USED of GI " + free.label("GPU_I_ID"));
        }
        // A physical reading repeats the parent's value on every instance.
        List<Series> temp = select(all, "DCGM_FI_DEV_GPU_TEMP", Map.of("gpu", "0"));
        assertEquals(Set.of("2", "7", "8", "9"), labelValues(temp, "GPU_I_ID"), "GPU_TEMP per instance");
        assertEquals(Set.of(47.0), temp.stream().map(Series::value).collect(Collectors.toSet()), "GPU 0's temperature on each");
        assertEquals(List.of(), select(all, "DCGM_FI_DEV_GPU_UTIL", Map.of("gpu", "0")), "GPU_UTIL on a GPU in MIG mode");
        // GPM per GPU instance: GI 2 is 62.5 % busy (graphics), GI 7 12 %.
        Map<String, Double> active = new TreeMap<>();
        select(all, "DCGM_FI_PROF_GR_ENGINE_ACTIVE", Map.of("gpu", "0")).forEach(s -> active.put(s.label("GPU_I_ID"), s.value()));
        assertEquals(0.625, active.getOrDefault("2", Double.NaN), 1e-9, "GR_ENGINE_ACTIVE of GI 2: " + active);
        assertEquals(0.12, active.getOrDefault("7", Double.NaN), 1e-9, "GR_ENGINE_ACTIVE of GI 7: " + active);
        // The agent's MIG families: mode, and the inventory, one per MIG device, matching the API.
        assertEquals(1, select(all, "gpu_agent_mig_mode", Map.of("gpu", "0", "UUID", gpu0.path("uuid").asText(),
                "current", "enabled", "pending", "enabled")).size(), "gpu_agent_mig_mode of GPU 0");
        for (Map.Entry<Integer, JsonNode> e : gi.entrySet()) {
            JsonNode mig = e.getValue();
            Map<String, String> labels = Map.of("gpu", "0", "UUID", gpu0.path("uuid").asText(),
                    "GPU_I_ID", String.valueOf(e.getKey()), "GPU_I_PROFILE", mig.path("profile").asText(),
                    "GPU_CI_ID", "0", "mig_uuid", mig.path("uuid").asText());
            assertEquals(List.of(1.0), values(select(all, "gpu_agent_mig_device_info", labels)), "info " + labels);
            assertEquals(List.of(mig.path("slices").asDouble()), values(select(all, "gpu_agent_mig_device_slices", labels)));
            assertEquals(List.of(mig.path("memoryMib").asDouble() * 1024 * 1024),
                    values(select(all, "gpu_agent_mig_device_memory_bytes", labels)));
        }
    }

    private static HttpResponse<String> lease(PackagedAgent agent, String body) {
        return agent.send("POST", "/v1/leases", SCHEDULER, body);
    }

    private static String migLease(String job, int count) {
        return "{\"jobId\":\"" + job + "\",\"mig\":{\"profile\":\"1g.10gb\",\"count\":" + count + "},\"ttlSeconds\":600}";
    }

    /** {@code /health/gpus/<id>}: 200 for a serving (HEALTHY, DEGRADED) device, 503 for any other, as for a GPU. */
    private static JsonNode healthOf(PackagedAgent agent, String id) {
        HttpResponse<String> r = agent.get("/health/gpus/" + id);
        JsonNode health = json(r.body());
        boolean serving = Set.of("HEALTHY", "DEGRADED").contains(health.path("state").asText());
        assertEquals(serving ? 200 : 503, r.statusCode(), "/health/gpus/" + id + ": " + r.body());
        return health;
    }

    /** {@code gpu_agent_mig_device_health} of GPU 0's MIG device on GPU instance {@code gi} for {@code state}. */
    private static double migHealth(PackagedAgent agent, String gi, String state) {
        List<Series> s = select(parse(agent.body("/metrics")), "gpu_agent_mig_device_health",
                Map.of("gpu", "0", "GPU_I_ID", gi, "state", state));
        assertEquals(1, s.size(), "gpu_agent_mig_device_health{gpu=0,GPU_I_ID=" + gi + ",state=" + state + "}: " + s);
        return s.getFirst().value();
    }

    /** The newest event of {@code kind} for a MIG device ({@code ?gpu=<gpu>/<gi>}). */
    private static JsonNode lastEvent(PackagedAgent agent, String address, String kind) {
        JsonNode found = null;
        for (JsonNode e : json(agent.body("/v1/events?gpu=" + address)).path("events")) {
            if (kind.equals(e.path("kind").asText())) {
                found = e;
            }
        }
        assertTrue(found != null, "no " + kind + " event for " + address);
        return found;
    }

    /** {@code /health}'s MIG devices of one GPU: address to state. */
    private static Map<String, String> migStates(JsonNode health, int gpu) {
        Map<String, String> states = new TreeMap<>();
        for (JsonNode g : health.path("gpus")) {
            if (g.path("index").asInt() == gpu) {
                g.path("migDevices").forEach(m -> states.put(m.path("address").asText(), m.path("state").asText()));
            }
        }
        return states;
    }

    private static String gpuState(JsonNode health, int gpu) {
        for (JsonNode g : health.path("gpus")) {
            if (g.path("index").asInt() == gpu) {
                return g.path("state").asText();
            }
        }
        throw new AssertionError("no GPU " + gpu + " in /health: " + health);
    }

    /** The snapshot sequence {@code /health} reports. */
    private static long sequence(PackagedAgent agent) {
        return json(agent.get("/health").body()).path("sampling").path("sequence").asLong();
    }

    /** A GPU's MIG devices (compute instance 0) by GPU instance id. */
    private static Map<Integer, JsonNode> byGpuInstance(JsonNode gpu) {
        Map<Integer, JsonNode> out = new TreeMap<>();
        gpu.path("migDevices").forEach(m -> {
            if (m.path("computeInstanceId").asInt() == 0) {
                out.put(m.path("gpuInstanceId").asInt(), m);
            }
        });
        return out;
    }

    static List<Series> parse(String exposition) {
        List<Series> out = new ArrayList<>();
        for (String line : exposition.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a sample line: " + line);
            LinkedHashMap<String, String> labels = new LinkedHashMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            out.add(new Series(m.group(1), labels, Double.parseDouble(m.group(3))));
        }
        return out;
    }

    /** The series of {@code name} whose labels include {@code labels}. */
    static List<Series> select(List<Series> all, String name, Map<String, String> labels) {
        return all.stream().filter(s -> s.name().equals(name)
                && labels.entrySet().stream().allMatch(e -> e.getValue().equals(s.label(e.getKey())))).toList();
    }

    private static Set<String> labelValues(List<Series> series, String label) {
        return series.stream().map(s -> s.label(label)).collect(Collectors.toCollection(TreeSet::new));
    }

    private static List<Double> values(List<Series> series) {
        return series.stream().map(Series::value).toList();
    }

    /** The text of each element, or of each element's {@code field}. */
    private static List<String> list(JsonNode array, String field) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(field == null ? n.asText() : n.path(field).asText()));
        return out;
    }

    private static JsonNode json(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + body, e);
        }
    }
}
