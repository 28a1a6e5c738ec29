package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.PackagedAgent;
import java.io.IOException;
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
import org.junit.jupiter.api.Test;

/**
 * The packaged agent: every request it accepted (and every one it refused) is in the audit log after
 * {@code kill -9} and a restart, cordons included; and it refuses to start in enforce mode when the token file
 * is readable by others.
 */
class RecoveryKillIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START = Duration.ofSeconds(30);
    private static final String TOKEN = "it-token-" + System.nanoTime();

    @Test
    void everyAnsweredRequestIsInTheAuditLogAfterKill9AndRestart() throws Exception {
        Map<String, String> answered = new LinkedHashMap<>();   // actionId -> what the API answered
        String cordonedUuid;
        String clearedUuid;
        try (PackagedAgent agent = start("recovery-kill", token("recovery-kill", "rw-------"), "observe").start()) {
            agent.await(START, () -> assertEquals(200, send(agent, "GET", "/v1/recovery", null).statusCode()));
            agent.await(START, () -> assertTrue(send(agent, "GET", "/health", null).body().contains("HEALTHY")));
            record(answered, send(agent, "POST", "/v1/gpus/0/cordon", TOKEN), 200);
            record(answered, send(agent, "POST", "/v1/gpus/1/cordon", TOKEN), 200);
            record(answered, send(agent, "POST", "/v1/gpus/1/uncordon", TOKEN), 200);
            String drain = record(answered, send(agent, "POST", "/v1/gpus/2/drain", TOKEN), 202);
            String reset = record(answered, send(agent, "POST", "/v1/gpus/3/reset", TOKEN), 202);
            record(answered, send(agent, "POST", "/v1/gpus/3/reset", TOKEN), 409);   // in progress, or rate limited
            for (String id : List.of(drain, reset)) {
                agent.await(START, () -> assertFalse(send(agent, "GET", "/v1/actions/" + id, null).body()
                        .contains("\"status\":\"running\""), id + " still running"));
            }
            HttpResponse<String> clear = send(agent, "POST", "/v1/gpus/4/health/clear", TOKEN);
            assertEquals(200, clear.statusCode(), clear.body());
            clearedUuid = JSON.readTree(clear.body()).get("uuid").asText();
            assertEquals(401, send(agent, "POST", "/v1/gpus/5/reset", null).statusCode());
            assertEquals(403, send(agent, "POST", "/v1/gpus/5/reset", "wrong").statusCode());
            record(answered, send(agent, "POST", "/v1/gpus/6/cordon", TOKEN), 200);   // the last answer before the kill
            cordonedUuid = JSON.readTree(send(agent, "GET", "/v1/gpus/0", null).body()).get("uuid").asText();
            agent.kill9();   // SIGKILL: no shutdown hooks, no flush

            agent.restart();
            agent.await(START, () -> assertEquals(200, send(agent, "GET", "/v1/actions?limit=1000", null).statusCode()));
            JsonNode actions = JSON.readTree(send(agent, "GET", "/v1/actions?limit=1000", null).body()).get("actions");
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
            JsonNode status = JSON.readTree(send(agent, "GET", "/v1/recovery", null).body());
            List<String> cordoned = new ArrayList<>();
            status.get("cordoned").forEach(c -> cordoned.add(c.get("uuid").asText()));
            assertTrue(cordoned.contains(cordonedUuid), cordoned.toString());
            assertEquals(3, cordoned.size(), "GPUs 0, 2 (drained) and 6 stay cordoned, 1 was uncordoned: " + cordoned);
        }
    }

    @Test
    void enforceModeRefusesToStartWithATokenFileOthersCanRead() throws Exception {
        try (PackagedAgent agent = start("recovery-refuse", token("recovery-refuse", "rw-r--r--"), "enforce").start()) {
            int exit = agent.waitForExit(Duration.ofSeconds(60));
            assertTrue(exit != 0, "exit code " + exit);
            String log = agent.log();
            assertTrue(log.contains("refusing to start with gpu-agent.recovery.mode=enforce") && log.contains("chmod 600"), log);
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

    @Test
    void aResetRunningAtSigtermFinishesBeforeTheAgentExits() throws Exception {
        Path done = Path.of("target", "it-agents").toAbsolutePath().resolve("reset-done-" + System.nanoTime());
        String log;
        try (PackagedAgent agent = start("reset-stop", token("reset-stop", "rw-------"), "enforce")
                // A reset that takes 3 s and leaves a mark only if it is not killed half-way.
                .property("gpu-agent.recovery.reset-command", "sh -c 'sleep 3; echo {index} > " + done + "'").start()) {
            agent.await(START, () -> assertEquals(200, agent.send("GET", "/v1/recovery", null, null).statusCode()));
            agent.awaitScrape();   // GPU 3 is in a snapshot (the API answers before the first sweep has ended)
            assertEquals(202, agent.send("POST", "/v1/gpus/3/reset?force=true", TOKEN, null).statusCode());
            Thread.sleep(1000);   // the reset command is running
            agent.terminate(Duration.ofSeconds(30));   // SIGTERM, as systemctl stop (KillMode=mixed: to the agent only)
            log = agent.log();
        }
        assertTrue(Files.isRegularFile(done), "the reset was cut short by the stop; log:\n" + log);
        assertEquals("3", Files.readString(done).strip());
        assertTrue(log.contains("waiting up to"), log);
    }

    /** A token file with {@code mode}, in its own place under target (a loose one is what enforce mode refuses). */
    private static Path token(String name, String mode) throws IOException {
        Path file = PackagedAgent.writeCredential(Path.of("target", "it-agents", name + "-token"), TOKEN);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    private static PackagedAgent.Options start(String name, Path token, String mode) {
        return PackagedAgent.named(name).property("gpu-agent.auth.token-file", token)
                .property("gpu-agent.recovery.mode", mode).property("gpu-agent.recovery.reset-command", "true")
                // The fake driver and 'true' need no CAP_SYS_ADMIN: run the same as root or not.
                .property("gpu-agent.recovery.privilege-check", "false")
                .property("gpu-agent.recovery.drain-deadline", "1s");
    }

    private static HttpResponse<String> send(PackagedAgent agent, String method, String path, String token) {
        return agent.send(method, path, token, null);
    }
}
