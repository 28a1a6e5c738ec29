package io.gpuagent.agent.coordinator;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;

import io.gpuagent.agent.TestToken;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/** In the agent role (the default) the coordinator's endpoints do not exist: 404, before any token check. */
@QuarkusTest
class AgentRoleTest {

    @Test
    void coordinatorEndpointsAre404ProblemsOnAnAgent() {
        given().get("/v1/nodes").then().statusCode(404).contentType("application/problem+json")
                .body("detail", containsString("gpu-agent.role=coordinator"));
        given().get("/v1/placements").then().statusCode(404).contentType("application/problem+json");
        given().contentType("application/json").body("{\"jobId\":\"j\",\"gpus\":1}").post("/v1/placements").then()
                .statusCode(404);
        given().header("Authorization", "Bearer " + TestToken.get()).delete("/v1/placements/x").then().statusCode(404);
        given().contentType("application/json").body("{}").post("/v1/nodes/heartbeat").then().statusCode(404);
        given().contentType("application/json").body("{}").post("/v1/nodes/n1/heartbeat").then().statusCode(404);
    }
}
