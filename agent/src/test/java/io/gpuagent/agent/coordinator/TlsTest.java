package io.gpuagent.agent.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.TestCertificates;
import io.gpuagent.agent.TestToken;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * HTTPS with certificates this test makes ({@link TestCertificates}: a CA, a server certificate it signs for
 * localhost and 127.0.0.1, and a self-signed impostor): the coordinator serves HTTPS, an agent heartbeats it over HTTPS,
 * and the coordinator takes leases on an HTTPS agent trusting only the configured CA
 * ({@code gpu-agent.tls.trust-certificates}).
 */
@QuarkusTest
@TestProfile(TlsTest.Https.class)
class TlsTest {

    static final Path DIR = Path.of("target/tls-test-" + ProcessHandle.current().pid()).toAbsolutePath();

    public static class Https implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            TestCertificates.make(DIR);
            return Map.of("gpu-agent.role", "coordinator",
                    "gpu-agent.coordinator.request-timeout", "3s",
                    "gpu-agent.state-dir", DIR.resolve("state").toString(),
                    "quarkus.tls.key-store.p12.path", DIR.resolve("server.p12").toString(),
                    "quarkus.tls.key-store.p12.password", TestCertificates.PASSWORD,
                    "quarkus.http.test-ssl-port", "0",
                    "gpu-agent.tls.trust-certificates", DIR.resolve("ca.pem").toString());
        }
    }

    @TestHTTPResource(value = "/", tls = true)
    URL https;

    private final List<FakeAgent> agents = new ArrayList<>();

    @AfterEach
    void retire() {
        agents.forEach(FakeAgent::close);
        agents.clear();
    }

    @Test
    void theCoordinatorServesHttpsWithTheConfiguredCertificate() throws Exception {
        URI nodes = https.toURI().resolve("/v1/nodes");
        assertEquals("https", nodes.getScheme());
        HttpResponse<String> r = HttpClient.newBuilder().sslContext(context("server.p12")).build()
                .send(HttpRequest.newBuilder(nodes).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertThrows(SSLHandshakeException.class, () -> HttpClient.newHttpClient()
                        .send(HttpRequest.newBuilder(nodes).build(), HttpResponse.BodyHandlers.ofString()),
                "the JVM's default trust store does not know the test CA");
    }

    @Test
    void theCoordinatorTakesLeasesOnAnHttpsAgentSignedByTheConfiguredCaOnly() throws Exception {
        URI heartbeat = https.toURI().resolve("/v1/nodes/heartbeat");
        FakeAgent good = new FakeAgent("tls-" + System.nanoTime() % 100_000, 1, heartbeat, TestToken::get,
                TestToken::get, context("server.p12"));
        agents.add(good);
        assertTrue(good.url().startsWith("https://"), good.url());
        assertEquals(200, good.sendHeartbeat(), "an agent heartbeats the coordinator over HTTPS");
        HttpResponse<String> placed = place("tls-job");
        assertEquals(201, placed.statusCode(), placed.body());
        assertEquals(1, good.leaseRequests.size());
        assertEquals(1, good.leasedUuids().size());
    }

    @Test
    void anAgentWithACertificateTheCaDidNotSignGetsNoLease() throws Exception {
        URI heartbeat = https.toURI().resolve("/v1/nodes/heartbeat");
        FakeAgent impostor = new FakeAgent("impostor-" + System.nanoTime() % 100_000, 1, heartbeat, TestToken::get,
                TestToken::get, context("impostor.p12"));
        agents.add(impostor);
        assertEquals(200, impostor.sendHeartbeat());
        HttpResponse<String> refused = place("impostor-job");
        assertEquals(409, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("cannot reach") && refused.body().contains(impostor.node()), refused.body());
        assertEquals(0, impostor.leaseRequests.size(), "the handshake failed before any request");
    }

    private HttpResponse<String> place(String job) throws Exception {
        return HttpClient.newBuilder().sslContext(context("server.p12")).build().send(HttpRequest.newBuilder(
                                https.toURI().resolve("/v1/placements")).header("Authorization", TestToken.header())
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"jobId\":\"" + job + "\",\"gpus\":1}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static SSLContext context(String keystore) throws Exception {
        return TestCertificates.context(DIR, keystore);
    }
}
