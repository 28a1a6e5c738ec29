package io.gpuagent.agent.events;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.TestToken;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A registration that answers UNKNOWN (999) leaves the driver's event set in an undefined state: the strict
 * fake then never delivers on it. The watcher must free that set and build a new one, not keep waiting.
 */
@QuarkusTest
class EventSetRebuildTest {
    private static final Duration SOON = Duration.ofSeconds(20);

    @AfterEach
    void restore() {
        FakeNvml.write(Machines.dgxH100());
        FakeNvml.eventually(SOON, () -> {
            given().header("Authorization", TestToken.header()).post("/v1/gpus/2/health/clear");
            given().get("/health/gpus/2").then().statusCode(200);
        });
    }

    @Test
    void aRegistrationAnsweringUnknownGetsANewEventSet() {
        FakeNvml.write(Machines.dgxH100());   // whatever an earlier run left in the file
        FakeNvml.eventually(SOON, () -> assertTrue(metrics().contains("gpu_agent_event_watch_gpus 8.0\n")));
        // Failed waits make the watcher start over with new sets; then registrations answer UNKNOWN while waits
        // work again, so the watcher's newest set is broken: it must not keep waiting on it.
        FakeNvml.write("gpus = 8\nerror.nvmlEventSetWait_v2 = 999\n");
        FakeNvml.eventually(SOON, () -> assertTrue(metrics().contains("gpu_agent_event_watch_up 0.0\n")));
        pause(1500);
        FakeNvml.write("gpus = 8\nerror.nvmlDeviceRegisterEvents = 999\n");
        pause(3000);
        assertTrue(metrics().contains("gpu_agent_event_watch_up 0.0\n"), "registrations fail");
        FakeNvml.write(Machines.dgxH100());
        FakeNvml.eventually(SOON, () -> assertTrue(metrics().contains("gpu_agent_event_watch_gpus 8.0\n")));
        double before = xids(metrics());
        FakeNvml.write("gpus = 8\nevent." + FakeNvml.nextEventNumber() + " = 2 xid 31\n");
        FakeNvml.eventually(SOON, () -> assertTrue(xids(metrics()) > before,
                "the XID was never delivered: the watcher waits on the broken set"));
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String metrics() {
        return given().get("/metrics").then().statusCode(200).extract().asString();
    }

    private static double xids(String text) {
        return text.lines().filter(l -> l.startsWith("gpu_agent_xid_errors_total{") && l.contains("gpu=\"2\"")
                && l.contains("xid=\"31\"")).mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }
}
