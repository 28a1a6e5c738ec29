package io.gpuagent.agent.auth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.TestCertificates;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19: with gpu-agent.tls.coordinator-client-names or -pins, a client certificate the CA signed is the
 * coordinator's credential only when it is named or pinned there, so a CA that signs more than coordinators
 * can still be used. Certificates from {@link TestCertificates} (the CA signs "CN=localhost").
 */
class ClientCertificateAllowListTest {

    @TempDir
    static Path dir;

    @Test
    void aSignedCertificateCountsOnlyWhenNamedOrPinned() throws Exception {
        TestCertificates.make(dir);
        Certificate[] chain = chain("server.p12", "server");
        String pin = ClientCertificateAuth.pin((X509Certificate) chain[0]);

        assertTrue(auth(null, null).verifies(chain), "no allow-list: any certificate the CA signed");
        assertTrue(auth(List.of("localhost"), null).verifies(chain), "by common name");
        assertTrue(auth(List.of("CN=localhost"), null).verifies(chain), "by subject");
        assertFalse(auth(List.of("CN=coordinator-1"), null).verifies(chain), "signed, but not a coordinator");
        assertTrue(auth(null, List.of("sha256/" + pin)).verifies(chain), "by its key's pin");
        assertTrue(auth(null, List.of(pin)).verifies(chain), "the prefix is optional");
        assertFalse(auth(null, List.of("sha256/" + "A".repeat(43) + "=")).verifies(chain), "another key");
        assertTrue(auth(List.of("CN=coordinator-1"), List.of(pin)).verifies(chain), "either list is enough");
        assertFalse(auth(List.of("localhost"), null).verifies(chain("impostor.p12", "impostor")),
                "a name on a certificate the CA did not sign is nothing");
    }

    private static ClientCertificateAuth auth(List<String> names, List<String> pins) {
        return new ClientCertificateAuth(new TlsConfig() {
            @Override
            public Optional<List<Path>> trustCertificates() {
                return Optional.empty();
            }

            @Override
            public Optional<List<Path>> coordinatorClientCa() {
                return Optional.of(List.of(dir.resolve("ca.pem")));
            }

            @Override
            public Optional<List<String>> coordinatorClientNames() {
                return Optional.ofNullable(names);
            }

            @Override
            public Optional<List<String>> coordinatorClientPins() {
                return Optional.ofNullable(pins);
            }

            @Override
            public Optional<Path> clientCertificate() {
                return Optional.empty();
            }

            @Override
            public Optional<Path> clientKey() {
                return Optional.empty();
            }
        });
    }

    private static Certificate[] chain(String keystore, String alias) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve(keystore))) {
            ks.load(in, TestCertificates.PASSWORD.toCharArray());
        }
        return ks.getCertificateChain(alias);
    }
}
