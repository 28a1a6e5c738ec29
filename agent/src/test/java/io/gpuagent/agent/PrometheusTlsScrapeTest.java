package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Promtool;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A real Prometheus scraping the agent over HTTPS (a certificate from {@link TestCertificates}'s CA) with the
 * reader credential, while reads need one ({@code readers-require-token=true}): the set-up docs/security.md
 * describes for a network that is not trusted.
 */
@QuarkusTest
@TestProfile(PrometheusTlsScrapeTest.Https.class)
class PrometheusTlsScrapeTest {

    static final Path DIR = Path.of("target/prometheus-tls-" + ProcessHandle.current().pid()).toAbsolutePath();
    static final String READER = "read-" + UUID.randomUUID();

    public static class Https implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            TestCertificates.make(DIR);
            try {
                Path reader = DIR.resolve("reader-token");
                Files.deleteIfExists(reader);
                Files.createFile(reader, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(reader, READER + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("quarkus.tls.key-store.p12.path", DIR.resolve("server.p12").toString(),
                    "quarkus.tls.key-store.p12.password", TestCertificates.PASSWORD,
                    "quarkus.http.test-ssl-port", "0",
                    "gpu-agent.auth.reader-token-file", DIR.resolve("reader-token").toString(),
                    "gpu-agent.auth.readers-require-token", "true");
        }
    }

    @TestHTTPResource(value = "/metrics", tls = true)
    URL metrics;

    @Test
    void aRealPrometheusScrapesOverHttpsWithTheReaderCredential() throws Exception {
        Path prometheus = Promtool.require("prometheus");
        assertEquals("https", metrics.getProtocol());
        Path dir = Files.createTempDirectory(Path.of("target"), "prometheus-tls");
        int port = PrometheusScrapeTest.freePort();
        Process server = PrometheusScrapeTest.startPrometheus(prometheus, dir, port, """
                scheme: https
                metrics_path: /metrics
                tls_config:
                  ca_file: %s
                authorization:
                  credentials_file: %s
                static_configs:
                  - targets: ['localhost:%d']
                """.formatted(DIR.resolve("ca.pem"), DIR.resolve("reader-token"), metrics.getPort()));
        try {
            HttpClient http = HttpClient.newHttpClient();
            URI up = URI.create("http://127.0.0.1:" + port + "/api/v1/query?query=up%7Bjob%3D%22gpu-agent%22%7D");
            URI temp = URI.create("http://127.0.0.1:" + port + "/api/v1/query?query=DCGM_FI_DEV_GPU_TEMP");
            FakeNvml.eventually(Duration.ofSeconds(30), () -> {
                JsonNode result = get(http, up).path("data").path("result");
                assertEquals("1", result.path(0).path("value").path(1).asText(), "up: " + result);
                assertTrue(get(http, temp).path("data").path("result").size() > 0, "no GPU series scraped yet");
            });
        } finally {
            server.destroy();
            server.waitFor();
        }
        HttpResponse<String> anonymous = HttpClient.newBuilder().sslContext(TestCertificates.context(DIR, "server.p12"))
                .build().send(HttpRequest.newBuilder(metrics.toURI()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, anonymous.statusCode(), "without the reader credential");
    }

    private static JsonNode get(HttpClient http, URI uri) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            return new ObjectMapper().readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("Prometheus not answering yet: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
