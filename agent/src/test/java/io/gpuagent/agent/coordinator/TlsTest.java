package io.gpuagent.agent.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.TestToken;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * HTTPS with certificates this test makes (keytool: a CA, a server certificate it signs for localhost and
 * 127.0.0.1, and a self-signed impostor): the coordinator serves HTTPS, an agent heartbeats it over HTTPS,
 * and the coordinator takes leases on an HTTPS agent trusting only the configured CA
 * ({@code gpu-agent.tls.trust-certificates}).
 */
@QuarkusTest
@TestProfile(TlsTest.Https.class)
class TlsTest {

    static final Path DIR = Path.of("target/tls-test-" + ProcessHandle.current().pid()).toAbsolutePath();
    static final String PASSWORD = "test-only";   // test keystores; real deployments use PEM files (docs/security.md)

    public static class Https implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            makeCertificates();
            return Map.of("gpu-agent.role", "coordinator",
                    "gpu-agent.coordinator.request-timeout", "3s",
                    "gpu-agent.state-dir", DIR.resolve("state").toString(),
                    "quarkus.tls.key-store.p12.path", DIR.resolve("server.p12").toString(),
                    "quarkus.tls.key-store.p12.password", PASSWORD,
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

    /** A context with this keystore's key, trusting the CA (and, for the impostor, itself). */
    static SSLContext context(String keystore) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(DIR.resolve(keystore))) {
            keys.load(in, PASSWORD.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, PASSWORD.toCharArray());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(DIR.resolve("ca.p12"))) {
            trust.load(in, PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    /** A CA, a server certificate it signs (localhost, 127.0.0.1), and a self-signed impostor for the same names. */
    static synchronized void makeCertificates() {
        if (Files.exists(DIR.resolve("impostor.p12"))) {
            return;
        }
        try {
            Files.createDirectories(DIR);
            String san = "san=dns:localhost,ip:127.0.0.1";
            keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=gpu-agent test CA",
                    "-ext", "bc:c", "-validity", "2", "-keystore", "ca.p12");
            keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", "-file", "ca.pem");
            keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                    "-validity", "2", "-keystore", "server.p12");
            keytool("-certreq", "-alias", "server", "-keystore", "server.p12", "-file", "server.csr");
            keytool("-gencert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", "-infile", "server.csr",
                    "-outfile", "server.pem", "-ext", san, "-validity", "2");
            keytool("-importcert", "-noprompt", "-alias", "ca", "-file", "ca.pem", "-keystore", "server.p12");
            keytool("-importcert", "-alias", "server", "-file", "server.pem", "-keystore", "server.p12");
            keytool("-genkeypair", "-alias", "impostor", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                    "-ext", san, "-validity", "2", "-keystore", "impostor.p12");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-storetype", "PKCS12", "-storepass", PASSWORD));
        Process p = new ProcessBuilder(cmd).directory(DIR.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException("keytool " + String.join(" ", args) + " failed: " + out);
        }
    }
}
