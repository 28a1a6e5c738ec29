package io.gpuagent.agent.reload;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.TestToken;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reloading the configuration while the agent runs: a new counters file changes the GPU series with every scrape
 * in between answered, a malformed one is refused with the old set kept, a health threshold takes effect.
 */
@QuarkusTest
@TestProfile(ConfigReloadTest.CountersFile.class)
class ConfigReloadTest {

    static final Path DIR = Path.of("target/reload-test");
    static final Path COUNTERS = DIR.resolve("counters.csv");
    static final Path HOST = DIR.resolve("agent.properties");
    static final String TEMP_ONLY = "DCGM_FI_DEV_GPU_TEMP, gauge, GPU temperature (in C).\n";
    static final String TEMP_AND_POWER = TEMP_ONLY + "DCGM_FI_DEV_POWER_USAGE, gauge, Power draw (in W).\n";

    /** The agent starts with a counters file of one metric, the GPU temperature. */
    public static class CountersFile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            write(COUNTERS, TEMP_ONLY);
            return Map.of("gpu-agent.counters-file", COUNTERS.toString());
        }
    }

    @Inject
    ConfigReload reload;
    @Inject
    HealthModel health;

    @BeforeEach
    void startingPoint() {
        FakeNvml.write(Machines.dgxH100());
        write(COUNTERS, TEMP_ONLY);
        write(HOST, "");
        reload.reload("test", HOST);
        FakeNvml.eventually(Duration.ofSeconds(15), () -> {
            given().get("/health").then().statusCode(200).body("status", equalTo("healthy"));
            assertFalse(scrape().contains("DCGM_FI_DEV_POWER_USAGE{"));
        });
    }

    @AfterEach
    void noHostFile() throws IOException {
        Files.deleteIfExists(HOST);
    }

    @Test
    void aNewCountersFileChangesTheSeriesWithoutAFailedScrape() throws Exception {
        assertTrue(scrape().contains("DCGM_FI_DEV_GPU_TEMP{"));
        double okBefore = counter("ok");
        List<String> failures = new ArrayList<>();
        AtomicBoolean done = new AtomicBoolean();
        Thread scraper = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                var r = given().get("/metrics");
                if (r.statusCode() != 200 || !r.asString().contains("DCGM_FI_DEV_GPU_TEMP{")) {
                    synchronized (failures) {
                        failures.add(r.statusCode() + " " + r.asString().length() + " bytes");
                    }
                }
            }
        });
        try {
            write(COUNTERS, TEMP_AND_POWER);
            given().header("Authorization", "Bearer " + TestToken.get()).post("/v1/config/reload").then()
                    .statusCode(200).body("applied", equalTo(true))
                    .body("changed", hasItem(containsString("GPU metrics: 2 from " + COUNTERS)));
            FakeNvml.eventually(Duration.ofSeconds(5),
                    () -> assertTrue(scrape().contains("DCGM_FI_DEV_POWER_USAGE{"), "the new metric is served"));
        } finally {
            done.set(true);
            scraper.join();
        }
        assertEquals(List.of(), failures, "scrapes during the reload");
        assertEquals(okBefore + 1, counter("ok"));
        assertTrue(scrape().matches("(?s).*gpu_agent_config_last_reload_timestamp_seconds [1-9].*"));
    }

    @Test
    void aMalformedCountersFileIsRefusedAndTheOldSetKept() {
        double refusedBefore = counter("refused");
        String healthBefore = given().get("/health").then().statusCode(200).extract().path("status");
        write(COUNTERS, TEMP_ONLY + "DCGM_FI_NO_SUCH_FIELD, gauge, nothing\n");
        given().header("Authorization", "Bearer " + TestToken.get()).post("/v1/config/reload").then()
                .statusCode(422).body("applied", equalTo(false))
                .body("refused", containsString("DCGM_FI_NO_SUCH_FIELD"));
        assertEquals(refusedBefore + 1, counter("refused"));
        String text = scrape();
        assertTrue(text.contains("DCGM_FI_DEV_GPU_TEMP{"), "the old set is served");
        assertFalse(text.contains("DCGM_FI_NO_SUCH_FIELD"));
        String after = given().get("/health").then().extract().asString();
        assertTrue(after.contains("\"status\":\"" + healthBefore + "\""), after);
    }

    @Test
    void reloadingNeedsTheOperatorToken() {
        given().post("/v1/config/reload").then().statusCode(401);
    }

    @Test
    void aHealthThresholdChangeTakesEffect() {
        FakeNvml.write(Machines.dgxH100().gpu(4, "temp", 80));   // 9 C below the fake's slowdown threshold (89 C)
        FakeNvml.eventually(Duration.ofSeconds(5), () -> assertEquals(80.0, temperature(4)));
        assertEquals(HealthState.HEALTHY, health.gpus().get(4).state(), "9 C is outside the default 5 C margin");

        write(HOST, "gpu-agent.health.thermal-margin=15\n");
        ConfigReload.Outcome outcome = reload.reload("test", HOST);
        assertTrue(outcome.applied(), outcome.toString());
        assertEquals(List.of("health policy: gpu-agent.health.thermal-margin"), outcome.changed());
        FakeNvml.eventually(Duration.ofSeconds(5), () -> given().get("/health/gpus/4").then()
                .body("state", equalTo("DEGRADED")).body("reasons.code", hasItem("THERMAL_NEAR_SLOWDOWN")));

        write(HOST, "gpu-agent.health.thermal-margin=-3s\n");
        ConfigReload.Outcome bad = reload.reload("test", HOST);
        assertFalse(bad.applied());
        assertTrue(bad.refused().contains("gpu-agent.health.thermal-margin"), bad.refused());

        write(HOST, "gpu-agent.sample-interval=2s\n");   // the margin back to its default, and a restart-only change
        ConfigReload.Outcome back = reload.reload("test", HOST);
        assertTrue(back.applied(), back.toString());
        assertEquals(List.of("gpu-agent.sample-interval"), back.needRestart());
        FakeNvml.eventually(Duration.ofSeconds(8), () -> given().get("/health/gpus/4").then().body("state", equalTo("HEALTHY")));
    }

    @Test
    void aRecoveryPolicyRowChangeTakesEffectAndABadOneIsRefused() {
        write(HOST, "gpu-agent.recovery.policy.XID_48=cordon\n");
        ConfigReload.Outcome outcome = reload.reload("test", HOST);
        assertTrue(outcome.applied(), outcome.toString());
        assertEquals(List.of("recovery policy: gpu-agent.recovery.policy.XID_48"), outcome.changed());
        assertEquals(List.of("cordon"), policyRow("XID_48"));

        write(HOST, "gpu-agent.recovery.policy.XID_48=frobnicate\n");
        ConfigReload.Outcome bad = reload.reload("test", HOST);
        assertFalse(bad.applied());
        assertTrue(bad.refused().contains("frobnicate"), bad.refused());
        assertEquals(List.of("cordon"), policyRow("XID_48"), "the last good policy is kept");
    }

    @Test
    void theExpectedTopologyReloadsAndWhereTheNodeChecksReadTakesARestart() {
        write(HOST, "gpu-agent.health.expected-gpus=8\ngpu-agent.health.nvlink.expected-links=18\n"
                + "gpu-agent.health.node.root=/elsewhere\n");
        ConfigReload.Outcome outcome = reload.reload("test", HOST);
        assertTrue(outcome.applied(), outcome.toString());
        assertEquals(List.of("health policy: gpu-agent.health.expected-gpus, gpu-agent.health.nvlink.expected-links"),
                outcome.changed());
        assertEquals(List.of("gpu-agent.health.node.root"), outcome.needRestart());

        write(HOST, "gpu-agent.health.expected-gpus=0\n");
        ConfigReload.Outcome bad = reload.reload("test", HOST);
        assertFalse(bad.applied());
        assertTrue(bad.refused().contains("expected-gpus"), bad.refused());

        write(HOST, "");
        assertTrue(reload.reload("test", HOST).applied());
    }

    /** The steps of a policy row as GET /v1/recovery shows the policy in force. */
    static List<String> policyRow(String code) {
        Map<String, List<String>> policy = given().get("/v1/recovery").then().statusCode(200).extract().path("policy");
        return policy.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(code)).map(Map.Entry::getValue)
                .findFirst().orElse(null);
    }

    static double temperature(int gpu) {
        return scrape().lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{gpu=\"" + gpu + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(-1);
    }

    static double counter(String result) {
        return scrape().lines().filter(l -> l.startsWith("gpu_agent_config_reloads_total{")
                        && l.contains("result=\"" + result + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(-1);
    }

    static String scrape() {
        return given().get("/metrics").then().statusCode(200).extract().asString();
    }

    static void write(Path file, String text) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
