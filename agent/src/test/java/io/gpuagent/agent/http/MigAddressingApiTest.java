package io.gpuagent.agent.http;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;

import io.gpuagent.agent.HealthyNode;
import io.gpuagent.agent.TestToken;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The MIG device forms of the API through the real HTTP path on the fake driver (a DGX H100 with no GPU in MIG
 * mode): every endpoint that takes a device takes them, answers 400 for a spelling that is not the one accepted
 * and 404 for a MIG device this host does not have, and the views carry the (empty) MIG lists. What a MIG device's
 * answers hold is checked on model snapshots (MigAddressingTest) and end to end on the fake in MIG mode
 * (MigAcceptanceIT).
 */
@QuarkusTest
class MigAddressingApiTest {

    static final String MIG = "MIG-00000000-0020-4000-8000-000000000001";

    @BeforeEach
    void healthyNode() {
        HealthyNode.restore("/health", Duration.ofSeconds(15));
    }

    static String auth() {
        return "Bearer " + TestToken.get();
    }

    @Test
    void aMigDeviceThisHostDoesNotHaveIs404InEveryForm() {
        for (String path : new String[] {"/v1/gpus/0/2", "/v1/gpus/0/2/1", "/v1/gpus/" + MIG, "/health/gpus/0/2",
                "/health/gpus/0/2/1", "/health/gpus/" + MIG}) {
            given().get(path).then().statusCode(404).body("detail", containsString("no MIG device"));
        }
        for (String path : new String[] {"/v1/gpus/0/2/health/clear", "/v1/gpus/0/2/1/health/clear",
                "/v1/gpus/" + MIG + "/health/clear"}) {
            given().header("Authorization", auth()).post(path).then().statusCode(404)
                    .body("detail", containsString("no MIG device"));
        }
    }

    @Test
    void everyOtherSpellingIsA400ThatNamesTheForms() {
        for (String path : new String[] {"/v1/gpus/0/02", "/v1/gpus/0/2/0", "/v1/gpus/00/2",
                "/v1/gpus/GPU-00000000-0000-4000-8000-000000000000/2", "/health/gpus/0/2/0", "/health/gpus/0/002"}) {
            given().get(path).then().statusCode(400).body("detail", containsString("MIG device"));
        }
        given().header("Authorization", auth()).post("/v1/gpus/0/2/0/health/clear").then().statusCode(400)
                .body("detail", containsString("compute instance 0 is written without it, 0/2"));
        given().get("/v1/events?gpu=0/02").then().statusCode(400);
        // The event history is the test application's, shared with classes that ran the fake in MIG mode: 0/2 may
        // have events, and then only its own.
        given().get("/v1/events?gpu=0/2").then().statusCode(200).body("events.migAddress", everyItem(equalTo("0/2")));
        given().get("/v1/events?gpu=" + MIG).then().statusCode(200).body("events", empty());
        // Recovery actions take whole GPUs.
        given().header("Authorization", auth()).post("/v1/gpus/" + MIG + "/cordon").then().statusCode(400)
                .body("detail", containsString("act on a whole GPU"));
        // A segment that is no instance id is no path at all.
        given().get("/v1/gpus/0/x").then().statusCode(404);
        given().options("/v1/gpus/0/2/1").then().statusCode(204).header("Allow", equalTo("GET, HEAD, OPTIONS"));
        given().options("/v1/gpus/0/2/health/clear").then().statusCode(204).header("Allow", equalTo("POST, OPTIONS"));
    }

    @Test
    void aGpuNotInMigModeListsNoMigDevices() {
        given().get("/v1/gpus/0").then().statusCode(200).body("migDevices", empty());
        given().get("/v1/gpus").then().statusCode(200).body("gpus[7].migDevices", empty());
        given().get("/health").then().statusCode(200).body("gpus[0].migDevices", empty());
        given().get("/health/gpus/0").then().statusCode(200).body("migDevices", empty());
        given().header("Authorization", auth()).post("/v1/gpus/3/health/clear").then().statusCode(200)
                .body("uuid", containsString("GPU-")).body("migDevices", empty());
    }
}
