package io.gpuagent.agent.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** 100 lease requests at once, over HTTP: never two leases on one GPU, every refusal a 409. */
@QuarkusTest
class LeaseConcurrencyTest {

    private static final int REQUESTS = 100;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    Cordons cordons;

    @Inject
    LeaseBook book;

    @TestHTTPResource("/v1/leases")
    URI leases;

    @BeforeEach
    void fresh() {
        LeaseTestSupport.freshNode(cordons);
    }

    @AfterEach
    void cleanUp() {
        LeaseTestSupport.releaseAll();
    }

    @Test
    void hundredRequestsForOneGpuEachGetEightGrants() throws Exception {
        Map<Integer, List<HttpResponse<String>>> byStatus = race(i -> "{\"jobId\":\"race-" + i + "\",\"gpus\":1}");
        assertEquals(Set.of(201, 409), byStatus.keySet(), "statuses: " + byStatus.keySet());
        List<HttpResponse<String>> granted = byStatus.get(201);
        assertEquals(8, granted.size());
        assertEquals(REQUESTS - 8, byStatus.get(409).size());
        Set<String> gpus = new HashSet<>();
        Set<Long> tokens = new HashSet<>();
        for (HttpResponse<String> r : granted) {
            JsonNode lease = JSON.readTree(r.body());
            assertEquals(1, lease.get("gpus").size());
            assertTrue(gpus.add(lease.get("gpus").get(0).asText()), "GPU granted twice: " + r.body());
            assertTrue(tokens.add(lease.get("fencingToken").asLong()), "fencing token reused: " + r.body());
        }
        for (HttpResponse<String> r : byStatus.get(409)) {
            assertEquals("application/problem+json", r.headers().firstValue("Content-Type").orElse(""));
            assertTrue(r.body().contains("1 GPU(s) asked, 0 leasable"), r.body());
        }
        assertNoGpuInTwoLeases(8);
    }

    @Test
    void hundredRequestsForTheSameGpuGetOneGrant() throws Exception {
        String uuid = LeaseApiTest.uuidOf(4);
        Map<Integer, List<HttpResponse<String>>> byStatus = race(
                i -> "{\"jobId\":\"same-" + i + "\",\"uuids\":[\"" + uuid + "\"],\"ttlSeconds\":60}");
        assertEquals(1, byStatus.get(201).size());
        assertEquals(REQUESTS - 1, byStatus.get(409).size());
        assertEquals(Set.of(201, 409), byStatus.keySet());
        assertNoGpuInTwoLeases(1);
    }

    @Test
    void hundredRequestsOfOneJobGetOneGrant() throws Exception {
        Map<Integer, List<HttpResponse<String>>> byStatus = race(i -> "{\"jobId\":\"one-job\",\"gpus\":1}");
        assertEquals(1, byStatus.get(201).size());
        assertEquals(REQUESTS - 1, byStatus.get(409).size());
        assertTrue(byStatus.get(409).getFirst().body().contains("already holds lease"), byStatus.get(409).getFirst().body());
        assertNoGpuInTwoLeases(1);
    }

    /** Sends REQUESTS bodies at once (released together by a latch); responses by status. */
    private Map<Integer, List<HttpResponse<String>>> race(IntFunction<String> body) throws Exception {
        String token = LeaseTestSupport.token();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        CountDownLatch go = new CountDownLatch(1);
        Map<Integer, List<HttpResponse<String>>> byStatus = new ConcurrentHashMap<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(REQUESTS)) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                HttpRequest request = HttpRequest.newBuilder(leases).timeout(Duration.ofSeconds(30))
                        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.apply(i))).build();
                done.add(pool.submit(() -> {
                    go.await();
                    HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                    byStatus.computeIfAbsent(r.statusCode(), k -> Collections.synchronizedList(new ArrayList<>())).add(r);
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        }
        return byStatus;
    }

    private void assertNoGpuInTwoLeases(int leased) {
        Set<String> seen = new HashSet<>();
        for (Lease l : book.leases()) {
            for (String gpu : l.gpus()) {
                assertTrue(seen.add(gpu), "GPU " + gpu + " in two leases: " + book.leases());
            }
        }
        assertEquals(leased, seen.size());
    }
}
