package io.gpuagent.agent.events;

import static io.gpuagent.agent.events.EventTestSupport.injectXid;
import static io.gpuagent.nvml.fake.FakeNvml.nextEventNumber;
import static io.gpuagent.agent.events.EventTestSupport.token;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The driver-event path end to end on the fake driver: {@code event.<n> = <gpu> xid <code>} in the scenario
 * reaches {@code nvmlEventSetWait_v2} on the agent's event thread, the health model, {@code /health},
 * {@code /v1/events} and the SSE stream.
 *
 * <p>The agent (and the fake's per-process counters) are shared with the other {@code @QuarkusTest}
 * classes: XIDs go only to GPUs 3, 4, 6 and 7, and every GPU is cleared after each test.
 */
@QuarkusTest
class EventsApiTest {

    static final Duration FAST = Duration.ofSeconds(5);

    @Inject
    EventWatcher watcher;

    @TestHTTPResource("/v1/events/stream")
    URI stream;

    @BeforeEach
    void watching() {
        token();
        // Events fired before the GPUs are registered are dropped, as on the real driver.
        FakeNvml.eventually(Duration.ofSeconds(10), () -> {
            assertTrue(watcher.watching(), "event thread registered");
            assertEquals(8, watcher.watchedGpus());
        });
        EventTestSupport.clearAllAndWaitHealthy();   // whatever an earlier test class left behind
    }

    @AfterEach
    void healthyAgain() {
        EventTestSupport.clearAllAndWaitHealthy();
    }

    @Test
    void anXid79FailsHealthAndShowsInEventsAndInTheStream() throws Exception {
        long before = lastId();
        try (SseClient live = SseClient.open(stream, null)) {
            assertEquals(200, live.status());
            assertTrue(live.contentType().startsWith("text/event-stream"), live.contentType());
            SseClient.Frame hello = live.next(FAST);
            assertNotNull(hello, "the stream greets at once");
            assertTrue(hello.isComment(), hello.toString());

            injectXid(3, 79);
            FakeNvml.eventually(FAST, () -> given().get("/health").then().statusCode(503)
                    .body("healthy", equalTo(false))
                    .body("reason", containsString("GPU 3"))
                    .body("gpus[3].state", not(equalTo("HEALTHY")))
                    .body("gpus[2].state", equalTo("HEALTHY")));

            Map<String, Object> xid = onlyXid(given().queryParam("since", before).queryParam("gpu", "3")
                    .get("/v1/events").then().statusCode(200).extract().jsonPath(), 3, "79");
            long xidId = ((Number) xid.get("id")).longValue();
            String uuid = (String) xid.get("uuid");
            assertTrue(uuid.startsWith("GPU-"), uuid);
            // The same event by UUID, by time, and not under another GPU.
            onlyXid(given().queryParam("since", before).queryParam("gpu", uuid).get("/v1/events").then()
                    .statusCode(200).extract().jsonPath(), 3, "79");
            List<Map<String, Object>> other = given().queryParam("since", before).queryParam("gpu", 2)
                    .get("/v1/events").then().statusCode(200).extract().jsonPath().getList("events");
            assertTrue(other.stream().noneMatch(e -> ((Number) e.get("id")).longValue() == xidId), other.toString());
            Instant xidTime = Instant.parse((String) xid.get("time"));
            JsonPath byTime = given().queryParam("since", xidTime.minusMillis(1).toString()).get("/v1/events")
                    .then().statusCode(200).extract().jsonPath();
            assertTrue(byTime.getList("events.id", Long.class).contains(xidId), byTime.prettify());
            // No since: the newest events, newest last.
            List<Long> newest = given().get("/v1/events").then().statusCode(200).extract().jsonPath()
                    .getList("events.id", Long.class);
            assertTrue(newest.contains(xidId));
            assertEquals(newest.stream().sorted().toList(), newest, "oldest first, newest last");

            // The live stream delivered it.
            SseClient.Frame frame = untilEvent(live, xidId);
            assertEquals("xid", frame.event());
            assertTrue(frame.data().contains("\"code\":\"79\""), frame.data());
            assertTrue(frame.data().contains("\"gpu\":3"), frame.data());

            // Resuming just before it replays it once, then goes on live without duplicates.
            try (SseClient resumed = SseClient.open(stream, Long.toString(xidId - 1))) {
                assertEquals(200, resumed.status());
                SseClient.Frame first = resumed.nextEvent(FAST);
                assertNotNull(first, "replayed from memory");
                assertEquals(Long.toString(xidId), first.id());

                long second = injectXidAndWait(7, 79, xidId);
                List<Long> resumedIds = idsUntil(resumed, second);
                List<Long> liveIds = idsUntil(live, second);
                assertStrictlyIncreasing(resumedIds);
                assertStrictlyIncreasing(liveIds);
                assertEquals(List.of(), resumedIds.stream().filter(id -> id <= xidId).toList(), "no duplicates");
            }
        }
        String metrics = given().get("/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("gpu_agent_event_watch_up 1.0\n"), metrics);
        assertTrue(metrics.contains("gpu_agent_event_watch_gpus 8.0\n"), metrics);
    }

    @Test
    void twoIdenticalXidsAreTwoEvents() {
        long before = lastId();
        FakeNvml.write("gpus = 8\nevent." + nextEventNumber() + " = 6 xid 79\nevent." + nextEventNumber() + " = 6 xid 79\n");
        FakeNvml.eventually(FAST, () -> assertEquals(2, xids(before, 6, "79").size()));
        given().get("/health").then().statusCode(503).body("reason", containsString("GPU 6"));
    }

    @Test
    void clearNeedsTheTokenAndRecoversTheGpu() {
        injectXid(4, 79);
        FakeNvml.eventually(FAST, () -> given().get("/health/gpus/4").then().statusCode(503));

        given().post("/v1/gpus/4/health/clear").then().statusCode(401)
                .contentType("application/problem+json")
                .header("WWW-Authenticate", containsString("Bearer"))
                .body("detail", containsString("Authorization: Bearer"));
        given().header("Authorization", "Basic dXNlcjpwYXNz").post("/v1/gpus/4/health/clear").then()
                .statusCode(401).header("WWW-Authenticate", containsString("Bearer"));
        given().header("Authorization", "Bearer wrong-" + token()).post("/v1/gpus/4/health/clear").then()
                .statusCode(403).contentType("application/problem+json");
        given().get("/health/gpus/4").then().statusCode(503);

        given().header("Authorization", "Bearer " + token()).post("/v1/gpus/nope/health/clear").then()
                .statusCode(400).contentType("application/problem+json");
        given().header("Authorization", "Bearer " + token()).post("/v1/gpus/42/health/clear").then()
                .statusCode(404).contentType("application/problem+json");
        given().header("Authorization", "Bearer " + token()).contentType("application/json").body("{not json")
                .post("/v1/gpus/4/health/clear").then().statusCode(400).contentType("application/problem+json");

        given().header("Authorization", "Bearer " + token()).contentType("application/json")
                .body("{\"reason\": \"GPU reseated by hand\"}")
                .post("/v1/gpus/4/health/clear").then().statusCode(200)
                .body("index", equalTo(4)).body("state", equalTo("HEALTHY"));
        FakeNvml.eventually(FAST, () -> given().get("/health").then().statusCode(200));
        // By UUID, with no body at all.
        String uuid = given().get("/health/gpus/4").then().extract().path("uuid");
        given().header("Authorization", "Bearer " + token()).post("/v1/gpus/" + uuid + "/health/clear").then()
                .statusCode(200).body("index", equalTo(4));
    }

    @Test
    void malformedParametersAreBadRequestsNeverServerErrors() throws Exception {
        for (String[] q : new String[][] {{"since", "yesterday"}, {"since", "-1"}, {"since", "2025-13-01T00:00:00Z"},
                {"gpu", "-1"}, {"gpu", "gpu3"}, {"limit", "0"}, {"limit", "abc"}, {"limit", "1001"}, {"limit", "10000"},
                {"before", "x"}, {"before", "-1"},
                {"limit", "99999999999999999999"}, {"limit", "-5"}, {"since", ""}}) {
            given().queryParam(q[0], q[1]).get("/v1/events").then().log().ifValidationFails().statusCode(400)
                    .contentType("application/problem+json")
                    .body("status", equalTo(400)).body("detail", containsString(q[0]));
        }
        given().queryParam("limit", 1_000).get("/v1/events").then().statusCode(200);
        given().queryParam("limit", 10_000).get("/v1/events").then().statusCode(400)
                .body("detail", containsString("a page at a time"));
        given().queryParam("before", 5).queryParam("since", 1).get("/v1/events").then().statusCode(400)
                .body("detail", containsString("not both"));
        given().queryParam("before", 1).get("/v1/events").then().statusCode(200).body("events.size()", equalTo(0));
        given().queryParam("gpu", 42).get("/v1/events").then().statusCode(200).body("events.size()", equalTo(0));
        given().queryParam("since", "2025-01-31T13:00:00+01:00").get("/v1/events").then().statusCode(200);
        given().urlEncodingEnabled(false).queryParam("since", "2025-01-31T13:00:00%2B01:00").get("/v1/events")
                .then().statusCode(200);

        try (SseClient bad = SseClient.open(URI.create(stream + "?since=yesterday"), null)) {
            assertEquals(400, bad.status());
            assertTrue(bad.contentType().startsWith("application/problem+json"), bad.contentType());
        }
        try (SseClient bad = SseClient.open(stream, "not-an-id")) {
            assertEquals(400, bad.status());
            assertTrue(bad.contentType().startsWith("application/problem+json"), bad.contentType());
        }
        try (SseClient bad = SseClient.open(URI.create(stream + "?gpu=-1"), null)) {
            assertEquals(400, bad.status());
        }
    }

    @Test
    void theStreamFiltersByGpuAndSaysWhenEventsWereMissed() throws Exception {
        long before = lastId();
        try (SseClient gpu7 = SseClient.open(URI.create(stream + "?gpu=7"), null)) {
            assertEquals(200, gpu7.status());
            FakeNvml.write("gpus = 8\nevent." + nextEventNumber() + " = 6 xid 13\nevent." + nextEventNumber()
                    + " = 7 xid 13\n");
            FakeNvml.eventually(FAST, () -> assertEquals(1, xids(before, 7, "13").size()));
            SseClient.Frame f = gpu7.nextEvent(FAST);
            assertNotNull(f, () -> "no event within " + FAST + "; the stream sent: " + gpu7.transcript()
                    + "; the log has: " + given().queryParam("since", before).get("/v1/events").asString());
            assertTrue(f.data().contains("\"gpu\":7"), f.data());
            assertEquals(1, xids(before, 6, "13").size());
        }
        // since=0 asks for everything: when older events are no longer kept, the stream says so first.
        long oldest = given().get("/v1/events").then().extract().jsonPath().getLong("oldestId");
        try (SseClient all = SseClient.open(URI.create(stream + "?since=0"), null)) {
            SseClient.Frame first = all.nextEvent(FAST);
            assertNotNull(first, () -> "no event within " + FAST + " (oldest kept: " + oldest + "); the stream sent: "
                    + all.transcript());
            if (oldest > 1) {
                assertEquals("missed", first.event());
                assertNull(first.id(), "the notice carries no id, so it does not move Last-Event-ID");
            } else {
                assertEquals("1", first.id());
            }
        }
    }

    private static long lastId() {
        return given().get("/v1/events").then().statusCode(200).extract().jsonPath().getLong("lastId");
    }

    private static List<Map<String, Object>> xids(long after, int gpu, String code) {
        List<Map<String, Object>> events = given().queryParam("since", after).queryParam("gpu", gpu)
                .get("/v1/events").then().statusCode(200).extract().jsonPath().getList("events");
        return events.stream().filter(e -> "xid".equals(e.get("kind")) && code.equals(e.get("code"))).toList();
    }

    private static Map<String, Object> onlyXid(JsonPath page, int gpu, String code) {
        List<Map<String, Object>> events = page.getList("events");
        List<Map<String, Object>> xids = events.stream().filter(e -> "xid".equals(e.get("kind"))).toList();
        assertEquals(1, xids.size(), page.prettify());
        Map<String, Object> xid = xids.getFirst();
        assertEquals(gpu, ((Number) xid.get("gpu")).intValue());
        assertEquals(code, xid.get("code"));
        return xid;
    }

    /** Injects an XID and returns its event id once /v1/events shows it. */
    private static long injectXidAndWait(int gpu, int xid, long after) {
        injectXid(gpu, xid);
        long[] id = new long[1];
        FakeNvml.eventually(FAST, () -> {
            List<Map<String, Object>> found = xids(after, gpu, Integer.toString(xid));
            assertEquals(1, found.size());
            id[0] = ((Number) found.getFirst().get("id")).longValue();
        });
        return id[0];
    }

    private static SseClient.Frame untilEvent(SseClient client, long id) throws InterruptedException {
        long end = System.nanoTime() + FAST.toNanos();
        while (System.nanoTime() < end) {
            SseClient.Frame f = client.nextEvent(Duration.ofNanos(Math.max(1, end - System.nanoTime())));
            if (f != null && f.id() != null && Long.parseLong(f.id()) == id) {
                return f;
            }
        }
        throw new AssertionError("event " + id + " not streamed within " + FAST);
    }

    /** Every event id read until (and including) {@code id}. */
    private static List<Long> idsUntil(SseClient client, long id) throws InterruptedException {
        List<Long> ids = new ArrayList<>();
        long end = System.nanoTime() + FAST.toNanos();
        while (System.nanoTime() < end) {
            SseClient.Frame f = client.nextEvent(Duration.ofNanos(Math.max(1, end - System.nanoTime())));
            if (f != null && f.id() != null) {
                ids.add(Long.parseLong(f.id()));
                if (ids.getLast() == id) {
                    return ids;
                }
            }
        }
        throw new AssertionError("event " + id + " not streamed within " + FAST + "; got " + ids);
    }

    private static void assertStrictlyIncreasing(List<Long> ids) {
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < ids.size(); i++) {
            assertTrue(seen.add(ids.get(i)), "duplicate " + ids.get(i) + " in " + ids);
            if (i > 0) {
                assertTrue(ids.get(i) > ids.get(i - 1), "out of order: " + ids);
            }
        }
    }
}
