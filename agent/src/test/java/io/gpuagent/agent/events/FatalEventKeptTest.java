package io.gpuagent.agent.events;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 11: a fatal XID stays in /v1/events after more events than the history holds in memory (10,000)
 * were recorded for the same GPU, so /v1/events still shows what /health names. The burst is appended
 * straight to the event log (one fsync for all of it): warning XIDs from the driver are coalesced since
 * finding 9 and could not make a burst that large.
 */
@QuarkusTest
class FatalEventKeptTest {

    static final int GPU = 6;
    static final int BURST = 10_001;

    @Inject
    EventLog log;

    @BeforeEach
    void healthy() {
        EventTestSupport.clearAllAndWaitHealthy();
    }

    @AfterEach
    void healthyAgain() {
        EventTestSupport.clearAllAndWaitHealthy();
    }

    @Test
    void aFatalXidIsStillListedAfterABurstLargerThanTheHistory() {
        long before = given().get("/v1/events").then().statusCode(200).extract().jsonPath().getLong("lastId");
        EventTestSupport.injectXid(GPU, 79);
        List<Map<String, Object>> seen = new ArrayList<>();
        FakeNvml.eventually(Duration.ofSeconds(10), () -> {
            seen.clear();
            seen.addAll(page(before, 10).getList("events"));
            assertTrue(seen.stream().anyMatch(FatalEventKeptTest::xid79), seen.toString());
        });
        long fatalId = ((Number) seen.stream().filter(FatalEventKeptTest::xid79).findFirst().orElseThrow().get("id")).longValue();
        String uuid = (String) seen.getFirst().get("uuid");

        List<AgentEvent> burst = new ArrayList<>(BURST);
        for (int i = 0; i < BURST; i++) {
            burst.add(AgentEvent.of(GPU, uuid, AgentEvent.NVML, "fatal-event-kept-test", "BURST", "burst " + i));
        }
        log.appendAll(burst);

        JsonPath first = page(before, 5);
        assertTrue(first.getLong("oldestId") > fatalId, "the XID is out of the in-memory window: oldestId "
                + first.getLong("oldestId") + ", XID event " + fatalId);
        List<Map<String, Object>> events = first.getList("events");
        List<Long> fatal = events.stream().filter(FatalEventKeptTest::xid79).map(e -> ((Number) e.get("id")).longValue()).toList();
        assertEquals(List.of(fatalId), fatal, "the fatal XID is listed once: " + events);
        List<Long> ids = events.stream().map(e -> ((Number) e.get("id")).longValue()).toList();
        assertEquals(ids.stream().sorted().distinct().toList(), ids, "in id order, no duplicates");
        List<Map<String, Object>> after = page(fatalId, 5).getList("events");
        assertTrue(after.stream().noneMatch(FatalEventKeptTest::xid79), "paging on from it does not list it again");
        assertEquals("LOST", given().get("/health").then().statusCode(503).extract().jsonPath()
                .getString("gpus.find { it.index == " + GPU + " }.state"), "/health still names the GPU (XID 79 is classed lost)");
    }

    private static JsonPath page(long since, int limit) {
        return given().queryParam("since", since).queryParam("gpu", GPU).queryParam("limit", limit)
                .get("/v1/events").then().statusCode(200).extract().jsonPath();
    }

    private static boolean xid79(Map<String, Object> e) {
        return "xid".equals(e.get("kind")) && "79".equals(e.get("code"));
    }
}
