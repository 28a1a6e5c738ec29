package io.gpuagent.agent.events;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 finding 9: one job's burst of user-caused XIDs used to cost an fsynced event each and push real
 * fatal events out of the history. Repeats within gpu-agent.health.xid-repeat-window (2 s in tests) are
 * summed up in one event; the counter stays exact; the fatal XID stays listed.
 */
@QuarkusTest
class XidBurstTest {

    static final int GPU = 5;
    static final int BURST = 1000;
    static final Duration SLOW = Duration.ofSeconds(30);
    static final Pattern COUNT = Pattern.compile("repeated (\\d+) more time");

    @BeforeEach
    void healthy() {
        EventTestSupport.clearAllAndWaitHealthy();
    }

    @AfterEach
    void healthyAgain() {
        EventTestSupport.clearAllAndWaitHealthy();
    }

    @Test
    void aBurstOfUserXidsIsCoalescedCountedExactlyAndEvictsNoFatalEvent() {
        long before = lastId();
        double counted = xidCounter(31);
        StringBuilder scenario = new StringBuilder("gpus = 8\n");
        for (int i = 0; i < BURST; i++) {
            scenario.append("event.").append(FakeNvml.nextEventNumber()).append(" = ").append(GPU).append(" xid 31\n");
        }
        scenario.append("event.").append(FakeNvml.nextEventNumber()).append(" = ").append(GPU).append(" xid 79\n");
        FakeNvml.write(scenario.toString());

        FakeNvml.eventually(SLOW, () -> assertEquals(counted + BURST, xidCounter(31), "every XID counted"));
        FakeNvml.eventually(SLOW, () -> {
            List<Map<String, Object>> xid31 = xids(before, "31");
            int summed = xid31.stream().mapToInt(e -> {
                Matcher m = COUNT.matcher(String.valueOf(e.get("message")));
                return m.find() ? Integer.parseInt(m.group(1)) : 1;
            }).sum();
            assertEquals(BURST, summed, "the first event plus the summaries' counts: " + xid31);
            assertTrue(xid31.size() <= 1 + (int) (SLOW.toSeconds() / 2), "a handful of events: " + xid31.size());
        });
        assertEquals(1, xids(before, "79").size(), "the fatal XID is still listed");
    }

    private static List<Map<String, Object>> xids(long after, String code) {
        List<Map<String, Object>> events = given().queryParam("since", after).queryParam("gpu", GPU)
                .queryParam("limit", 1000).get("/v1/events").then().statusCode(200).extract().jsonPath().getList("events");
        return events.stream().filter(e -> "xid".equals(e.get("kind")) && code.equals(e.get("code"))).toList();
    }

    private static double xidCounter(int xid) {
        String metrics = given().get("/metrics").then().statusCode(200).extract().asString();
        Matcher m = Pattern.compile("gpu_agent_xid_errors_total\\{[^}]*gpu=\"" + GPU + "\"[^}]*xid=\"" + xid
                + "\"[^}]*} ([0-9.Ee+]+)").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static long lastId() {
        return given().get("/v1/events").then().statusCode(200).extract().jsonPath().getLong("lastId");
    }
}
