package io.gpuagent.agent.events;

import static io.restassured.RestAssured.given;

import io.gpuagent.agent.Scenario;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/** What the event tests share: the bearer token, fresh fake-driver event numbers, and cleaning up GPUs. */
final class EventTestSupport {

    /** {@code %test.gpu-agent.auth.token-file} in application.properties. */
    static final Path TOKEN_FILE = Path.of("target/test-token");
    private static String token;

    /**
     * The fake fires each {@code event.<n>} once per process: start at a random large number so that no
     * other test class (in this JVM) uses the same ones.
     */
    private static final AtomicLong NEXT_EVENT = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));

    private EventTestSupport() {
    }

    static long nextEventNumber() {
        return NEXT_EVENT.getAndIncrement();
    }

    /** Writes the token file (mode 0600) once per JVM and returns the token. */
    static synchronized String token() {
        if (token == null) {
            String t = "test-" + UUID.randomUUID();
            try {
                Files.createDirectories(TOKEN_FILE.toAbsolutePath().getParent());
                Path tmp = Files.createTempFile(TOKEN_FILE.toAbsolutePath().getParent(), "token", ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(tmp, t + "\n");
                Files.move(tmp, TOKEN_FILE, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            token = t;
        }
        return token;
    }

    /** Injects XID {@code xid} on {@code gpu} through the fake driver; returns the event number used. */
    static long injectXid(int gpu, int xid) {
        long n = nextEventNumber();
        Scenario.write("gpus = 8\nevent." + n + " = " + gpu + " xid " + xid + "\n");
        return n;
    }

    /** Clears every GPU through the API and waits until /health is 200 again. */
    static void clearAllAndWaitHealthy() {
        Scenario.write("gpus = 8\n");
        String t = token();
        List<Map<String, Object>> gpus = given().get("/health").then().extract().jsonPath().getList("gpus");
        for (Map<String, Object> gpu : gpus) {
            if (!"HEALTHY".equals(gpu.get("state"))) {
                given().header("Authorization", "Bearer " + t).post("/v1/gpus/" + gpu.get("index") + "/health/clear");
            }
        }
        Scenario.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(200));
    }
}
