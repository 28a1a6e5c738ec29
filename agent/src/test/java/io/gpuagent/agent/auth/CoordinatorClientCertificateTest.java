package io.gpuagent.agent.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.TestCertificates;
import io.gpuagent.agent.TestToken;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 (TLS): the coordinator may authenticate to an agent with a TLS client certificate instead of its
 * bearer token. With gpu-agent.tls.coordinator-client-ca the agent accepts, on its coordinator endpoints only,
 * a request without a token whose client certificate the CA signed; the client side is
 * gpu-agent.tls.client-certificate and client-key (PEM), as the coordinator sends them. Certificates are made
 * by the test ({@link TestCertificates}).
 */
@QuarkusTest
@TestProfile(CoordinatorClientCertificateTest.MutualTls.class)
class CoordinatorClientCertificateTest {

    static final Path DIR = Path.of("target/mtls-test-" + ProcessHandle.current().pid()).toAbsolutePath();

    public static class MutualTls implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            TestCertificates.make(DIR);
            return Map.of("gpu-agent.state-dir", DIR.resolve("state").toString(),
                    "quarkus.tls.key-store.p12.path", DIR.resolve("server.p12").toString(),
                    "quarkus.tls.key-store.p12.password", TestCertificates.PASSWORD,
                    "quarkus.tls.trust-store.pem.certs", DIR.resolve("ca.pem").toString(),
                    "quarkus.http.ssl.client-auth", "request",
                    "quarkus.http.test-ssl-port", "0",
                    "gpu-agent.tls.coordinator-client-ca", DIR.resolve("ca.pem").toString());
        }
    }

    @TestHTTPResource(value = "/", tls = true)
    URL https;

    @Test
    void aClientCertificateSignedByTheCaIsTheCoordinatorsCredentialAndNothingMore() throws Exception {
        // A lease id that does not exist: 404 once authenticated, 401 without a credential.
        URI lease = https.toURI().resolve("/v1/leases/00000000-0000-4000-8000-000000000000");
        URI cordon = https.toURI().resolve("/v1/gpus/0/cordon");
        SSLContext signed = OutgoingTls.context(Optional.of(List.of(DIR.resolve("ca.pem"))),
                pem(DIR, "server.p12", "server", "signed"), key(DIR, "server.p12", "server", "signed"));
        SSLContext none = OutgoingTls.trusting(List.of(DIR.resolve("ca.pem")));

        assertEquals(404, send(signed, HttpRequest.newBuilder(lease).DELETE()).statusCode(),
                "the signed client certificate is the coordinator's credential");
        assertEquals(401, send(none, HttpRequest.newBuilder(lease).DELETE()).statusCode(), "no certificate, no token");
        assertEquals(404, send(none, HttpRequest.newBuilder(lease).header("Authorization", TestToken.header()).DELETE())
                .statusCode(), "the bearer token still works");
        assertEquals(401, send(signed, HttpRequest.newBuilder(cordon).POST(HttpRequest.BodyPublishers.noBody()))
                .statusCode(), "the certificate grants the coordinator role only, not the operator's");

        SSLContext impostor = OutgoingTls.context(Optional.of(List.of(DIR.resolve("ca.pem"))),
                pem(DIR, "impostor.p12", "impostor", "impostor"), key(DIR, "impostor.p12", "impostor", "impostor"));
        try {
            int status = send(impostor, HttpRequest.newBuilder(lease).DELETE()).statusCode();
            assertEquals(401, status, "a certificate the CA did not sign is no credential");
        } catch (IOException refusedInTheHandshake) {
            assertTrue(String.valueOf(refusedInTheHandshake).contains("SSL")
                    || refusedInTheHandshake.getCause() != null, String.valueOf(refusedInTheHandshake));
        }
    }

    private static HttpResponse<String> send(SSLContext context, HttpRequest.Builder request) throws Exception {
        return HttpClient.newBuilder().sslContext(context).build().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The certificate chain of {@code alias} in a test keystore, as a PEM file. */
    private static Path pem(Path dir, String keystore, String alias, String name) throws Exception {
        StringBuilder out = new StringBuilder();
        for (Certificate c : load(dir, keystore).getCertificateChain(alias)) {
            out.append(pemBlock("CERTIFICATE", c.getEncoded()));
        }
        Path file = dir.resolve(name + "-client.crt");
        Files.writeString(file, out, StandardCharsets.US_ASCII);
        return file;
    }

    /** The private key of {@code alias} in a test keystore, as an unencrypted PKCS#8 PEM file. */
    private static Path key(Path dir, String keystore, String alias, String name) throws Exception {
        byte[] pkcs8 = load(dir, keystore).getKey(alias, TestCertificates.PASSWORD.toCharArray()).getEncoded();
        Path file = dir.resolve(name + "-client.key");
        Files.writeString(file, pemBlock("PRIVATE KEY", pkcs8), StandardCharsets.US_ASCII);
        return file;
    }

    private static KeyStore load(Path dir, String keystore) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve(keystore))) {
            ks.load(in, TestCertificates.PASSWORD.toCharArray());
        }
        return ks;
    }

    private static String pemBlock(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }
}
