package io.gpuagent.agent.lease;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gpuagent.agent.Scenario;
import io.gpuagent.agent.recovery.Cordons;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** What the lease tests share: the bearer token and a node with 8 healthy, unleased GPUs. */
final class LeaseTestSupport {

    /** {@code %test.gpu-agent.auth.token-file} in application.properties. */
    static final Path TOKEN_FILE = Path.of("target/test-token");

    private LeaseTestSupport() {
    }

    /**
     * The token in the file, written first if there is none. Read every time: another test class of this JVM
     * may have replaced the file with its own token.
     */
    static String token() {
        try {
            if (!Files.exists(TOKEN_FILE)) {
                Files.createDirectories(TOKEN_FILE.toAbsolutePath().getParent());
                try {
                    Files.createFile(TOKEN_FILE, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                    Files.writeString(TOKEN_FILE, "lease-test-" + UUID.randomUUID() + "\n");
                } catch (FileAlreadyExistsException e) {
                    // written by another thread meanwhile
                }
            }
            return Files.readString(TOKEN_FILE).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static RequestSpecification authed() {
        return given().header("Authorization", "Bearer " + token());
    }

    /** Eight GPUs, every one HEALTHY (cleared through the API), uncordoned, not leased, and leasable. */
    static void freshNode(Cordons cordons) {
        Scenario.write("gpus = 8\n");
        cordons.all().forEach(c -> cordons.uncordon(c.uuid()));
        releaseAll();
        Scenario.eventually(Duration.ofSeconds(15), () -> {
            List<Map<String, Object>> gpus = given().get("/v1/inventory").then().statusCode(200).extract().jsonPath()
                    .getList("gpus");
            for (Map<String, Object> g : gpus) {
                if (!"HEALTHY".equals(g.get("health")) && !"INITIALIZING".equals(g.get("health"))) {
                    authed().post("/v1/gpus/" + g.get("index") + "/health/clear");
                }
            }
            assertEquals(8, gpus.stream().filter(g -> Boolean.TRUE.equals(g.get("leasable"))).count(),
                    "leasable GPUs: " + gpus);
        });
    }

    static void releaseAll() {
        List<String> ids = given().get("/v1/leases").then().statusCode(200).extract().jsonPath().getList("leaseId");
        for (String id : ids) {
            authed().delete("/v1/leases/" + id);
        }
    }
}
