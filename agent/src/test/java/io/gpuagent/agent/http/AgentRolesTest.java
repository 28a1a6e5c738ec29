package io.gpuagent.agent.http;

import io.gpuagent.agent.http.problem.Problem;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.oneOf;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * An agent with one credential per role and {@code readers-require-token=true}, over HTTP: each endpoint
 * takes its role's token and answers 403 naming the role to any other; reads, {@code /metrics} included,
 * need a credential while {@code /health} and {@code /q/health/*} stay open.
 */
@QuarkusTest
@TestProfile(AgentRolesTest.Roles.class)
class AgentRolesTest {

    static final Path DIR = Path.of("target/agent-roles-" + ProcessHandle.current().pid());
    static final String OPERATOR = "op-" + UUID.randomUUID();
    static final String SCHEDULER = "sched-" + UUID.randomUUID();
    static final String COORDINATOR = "coord-" + UUID.randomUUID();
    static final String READER = "read-" + UUID.randomUUID();

    public static class Roles implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Files.createDirectories(DIR);
                Map<String, String> tokens = Map.of("operator", OPERATOR, "scheduler", SCHEDULER,
                        "coordinator", COORDINATOR, "reader", READER);
                for (Map.Entry<String, String> e : tokens.entrySet()) {
                    Path f = DIR.resolve(e.getKey());
                    Files.deleteIfExists(f);
                    Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                    Files.writeString(f, e.getValue() + "\n");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("gpu-agent.state-dir", DIR.resolve("state").toString(),
                    "gpu-agent.auth.operator-token-file", DIR.resolve("operator").toString(),
                    "gpu-agent.auth.scheduler-token-file", DIR.resolve("scheduler").toString(),
                    "gpu-agent.auth.coordinator-token-file", DIR.resolve("coordinator").toString(),
                    "gpu-agent.auth.reader-token-file", DIR.resolve("reader").toString(),
                    "gpu-agent.auth.readers-require-token", "true");
        }
    }

    @Test
    void leasesTakeTheSchedulerOrTheCoordinatorAndNobodyElse() {
        String body = "{\"jobId\":\"roles\",\"gpus\":1,\"ttlSeconds\":60}";
        for (String other : new String[] {OPERATOR, READER}) {
            given().header("Authorization", "Bearer " + other).contentType(ContentType.JSON).body(body)
                    .post("/v1/leases").then().statusCode(403).contentType(Problem.MEDIA_TYPE)
                    .body("detail", containsString("needs the scheduler or coordinator credential"));
        }
        given().contentType(ContentType.JSON).body(body).post("/v1/leases").then().statusCode(401)
                .header("WWW-Authenticate", containsString("Bearer"));
        given().header("Authorization", "Bearer " + SCHEDULER).contentType(ContentType.JSON).body(body)
                .post("/v1/leases").then().statusCode(not(oneOf(401, 403)));
        given().header("Authorization", "Bearer " + COORDINATOR).delete("/v1/leases/00000000-0000-4000-8000-000000000000").then()
                .statusCode(404);
    }

    @Test
    void recoveryTakesTheOperatorOnly() {
        for (String other : new String[] {SCHEDULER, COORDINATOR, READER}) {
            given().header("Authorization", "Bearer " + other).post("/v1/recovery/breaker/reset").then()
                    .statusCode(403).body("detail", containsString("needs the operator credential"));
            given().header("Authorization", "Bearer " + other).post("/v1/gpus/0/reset").then().statusCode(403);
            given().header("Authorization", "Bearer " + other).post("/v1/gpus/0/health/clear").then().statusCode(403);
        }
        given().header("Authorization", "Bearer " + OPERATOR).post("/v1/recovery/breaker/reset").then()
                .statusCode(not(oneOf(401, 403)));
    }

    @Test
    void readsNeedACredentialExceptTheProbes() {
        for (String path : new String[] {"/v1/gpus", "/metrics", "/v1/events", "/v1/leases", "/v1/recovery"}) {
            given().get(path).then().statusCode(401).contentType(Problem.MEDIA_TYPE)
                    .header("WWW-Authenticate", containsString("Bearer"));
            given().header("Authorization", "Bearer wrong").get(path).then().statusCode(403);
            given().header("Authorization", "Bearer " + READER).get(path).then().statusCode(200);
            given().header("Authorization", "Bearer " + SCHEDULER).get(path).then().statusCode(200);
        }
        given().get("/health").then().statusCode(not(oneOf(401, 403)));
        given().get("/q/health/live").then().statusCode(200);
    }
}
