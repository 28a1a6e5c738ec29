package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.Scenario;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The packaged agent: every request it accepted (and every one it refused) is in the audit log after
 * {@code kill -9} and a restart, cordons included; and it refuses to start in enforce mode when the token file
 * is readable by others.
 */
class RecoveryKillIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private static final Duration START = Duration.ofSeconds(30);
    private static final String TOKEN = "it-token-" + System.nanoTime();

    @Test
    void everyAnsweredRequestIsInTheAuditLogAfterKill9AndRestart() throws Exception {
        Path jar = jar();
        Scenario.write("gpus = 8\n");
        Path state = Files.createTempDirectory(Path.of("target"), "it-recovery-state");
        Path token = token(state, "rw-------");

        Map<String, String> answered = new LinkedHashMap<>();   // actionId -> what the API answered
        String cordonedUuid;
        String clearedUuid;
        int port = freePort();
        Process agent = start(jar, state, token, port, "observe", "first");
        try {
            Scenario.eventually(START, () -> assertEquals(200, send(port, "GET", "/v1/recovery", null).statusCode()));
            Scenario.eventually(START, () -> assertTrue(send(port, "GET", "/health", null).body().contains("HEALTHY")));
            record(answered, send(port, "POST", "/v1/gpus/0/cordon", TOKEN), 200);
            record(answered, send(port, "POST", "/v1/gpus/1/cordon", TOKEN), 200);
            record(answered, send(port, "POST", "/v1/gpus/1/uncordon", TOKEN), 200);
            String drain = record(answered, send(port, "POST", "/v1/gpus/2/drain", TOKEN), 202);
            String reset = record(answered, send(port, "POST", "/v1/gpus/3/reset", TOKEN), 202);
            record(answered, send(port, "POST", "/v1/gpus/3/reset", TOKEN), 409);   // in progress, or rate limited
            for (String id : List.of(drain, reset)) {
                Scenario.eventually(START, () -> assertFalse(send(port, "GET", "/v1/actions/" + id, null).body()
                        .contains("\"status\":\"running\""), id + " still running"));
            }
            HttpResponse<String> clear = send(port, "POST", "/v1/gpus/4/health/clear", TOKEN);
            assertEquals(200, clear.statusCode(), clear.body());
            clearedUuid = JSON.readTree(clear.body()).get("uuid").asText();
            assertEquals(401, send(port, "POST", "/v1/gpus/5/reset", null).statusCode());
            assertEquals(403, send(port, "POST", "/v1/gpus/5/reset", "wrong").statusCode());
            record(answered, send(port, "POST", "/v1/gpus/6/cordon", TOKEN), 200);   // the last answer before the kill
            cordonedUuid = JSON.readTree(send(port, "GET", "/v1/gpus/0", null).body()).get("uuid").asText();
        } finally {
            agent.toHandle().destroyForcibly();   // SIGKILL: no shutdown hooks, no flush
            agent.waitFor();
        }

        int port2 = freePort();
        Process again = start(jar, state, token, port2, "observe", "second");
        try {
            Scenario.eventually(START, () -> assertEquals(200, send(port2, "GET", "/v1/actions?limit=10000", null).statusCode()));
            JsonNode actions = JSON.readTree(send(port2, "GET", "/v1/actions?limit=10000", null).body()).get("actions");
            Set<String> audited = new HashSet<>();
            actions.forEach(a -> audited.add(a.get("actionId").asText()));
            for (Map.Entry<String, String> e : answered.entrySet()) {
                assertTrue(audited.contains(e.getKey()), "answered " + e.getValue() + " but not in the audit log after kill -9: "
                        + e.getKey());
            }
            boolean clearAudited = false;
            for (JsonNode a : actions) {
                clearAudited |= "clear".equals(a.get("action").asText()) && clearedUuid.equals(a.get("uuid").asText());
            }
            assertTrue(clearAudited, "the health clear is in the audit log after kill -9");
            // The audit log also restores the cordons.
            JsonNode status = JSON.readTree(send(port2, "GET", "/v1/recovery", null).body());
            List<String> cordoned = new ArrayList<>();
            status.get("cordoned").forEach(c -> cordoned.add(c.get("uuid").asText()));
            assertTrue(cordoned.contains(cordonedUuid), cordoned.toString());
            assertEquals(3, cordoned.size(), "GPUs 0, 2 (drained) and 6 stay cordoned, 1 was uncordoned: " + cordoned);
        } finally {
            again.destroy();
            again.waitFor();
        }
    }

    @Test
    void enforceModeRefusesToStartWithATokenFileOthersCanRead() throws Exception {
        Path state = Files.createTempDirectory(Path.of("target"), "it-recovery-refuse");
        Path token = token(state, "rw-r--r--");
        Process agent = start(jar(), state, token, freePort(), "enforce", "refused");
        try {
            assertTrue(agent.waitFor(60, TimeUnit.SECONDS), "the agent should have exited");
            assertTrue(agent.exitValue() != 0, "exit code " + agent.exitValue());
            String log = Files.readString(state.resolve("agent-refused.log"));
            assertTrue(log.contains("refusing to start with gpu-agent.recovery.mode=enforce") && log.contains("chmod 600"), log);
        } finally {
            agent.destroyForcibly();
        }
    }

    /** Checks the status and remembers the action the answer names; returns its id. */
    private static String record(Map<String, String> answered, HttpResponse<String> r, int expected) throws IOException {
        assertEquals(expected, expected == 409 && r.statusCode() == 429 ? 409 : r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        String id = body.has("actionId") ? body.get("actionId").asText() : null;
        if (id == null && body.has("instance")) {
            id = body.get("instance").asText().replace("/v1/actions/", "");
        }
        assertNotNull(id, r.body());
        answered.put(id, r.statusCode() + " " + r.request().uri().getPath());
        return id;
    }

    private static Path jar() {
        Path jar = Path.of(System.getProperty("quarkus-app.jar", "target/quarkus-app/quarkus-run.jar"));
        assertTrue(Files.isRegularFile(jar), "not packaged: " + jar);
        return jar;
    }

    @Test
    void aResetRunningAtSigtermFinishesBeforeTheAgentExits() throws Exception {
        Path jar = jar();
        Scenario.write("gpus = 8\n");
        Path state = Files.createTempDirectory(Path.of("target"), "it-reset-stop").toAbsolutePath();
        Path token = token(state, "rw-------");
        Path done = state.resolve("reset-done");
        int port = freePort();
        Process agent = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dgpu-agent.nvml.library=" + Scenario.FAKE_LIBRARY.toAbsolutePath(),
                "-Dgpu-agent.state-dir=" + state, "-Dgpu-agent.auth.token-file=" + token,
                "-Dgpu-agent.recovery.mode=enforce", "-Dgpu-agent.recovery.privilege-check=false",
                // A reset that takes 3 s and leaves a mark only if it is not killed half-way.
                "-Dgpu-agent.recovery.reset-command=sh -c 'sleep 3; echo {index} > " + done + "'",
                "-Dquarkus.http.port=" + port, "-Dquarkus.http.host=127.0.0.1", "-jar", jar.toString())
                .redirectErrorStream(true).redirectOutput(state.resolve("agent.log").toFile()).start();
        try {
            Scenario.eventually(START, () -> assertEquals(200, send(port, "GET", "/v1/recovery", null).statusCode()));
            assertEquals(202, send(port, "POST", "/v1/gpus/3/reset?force=true", TOKEN).statusCode());
            Thread.sleep(1000);   // the reset command is running
            agent.destroy();      // SIGTERM, as systemctl stop (KillMode=mixed: to the agent only)
            assertTrue(agent.waitFor(30, TimeUnit.SECONDS), "the agent did not stop");
        } finally {
            agent.destroyForcibly().waitFor();
        }
        String log = Files.readString(state.resolve("agent.log"));
        assertTrue(Files.isRegularFile(done), "the reset was cut short by the stop; log:\n" + log);
        assertEquals("3", Files.readString(done).strip());
        assertTrue(log.contains("waiting up to"), log);
    }

    private static Path token(Path dir, String mode) throws IOException {
        Path file = dir.resolve("token");
        Files.writeString(file, TOKEN + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    private static Process start(Path jar, Path state, Path token, int port, String mode, String name) throws IOException {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dgpu-agent.nvml.library=" + Scenario.FAKE_LIBRARY.toAbsolutePath(),
                "-Dgpu-agent.state-dir=" + state, "-Dgpu-agent.auth.token-file=" + token,
                "-Dgpu-agent.recovery.mode=" + mode, "-Dgpu-agent.recovery.reset-command=true",
                // The fake driver and 'true' need no CAP_SYS_ADMIN: run the same as root or not.
                "-Dgpu-agent.recovery.privilege-check=false",
                "-Dgpu-agent.recovery.drain-deadline=1s",
                "-Dquarkus.http.port=" + port, "-Dquarkus.http.host=127.0.0.1", "-jar", jar.toString())
                .redirectErrorStream(true).redirectOutput(state.resolve("agent-" + name + ".log").toFile()).start();
    }

    private static HttpResponse<String> send(int port, String method, String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        try {
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("agent not answering yet: " + e, e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
