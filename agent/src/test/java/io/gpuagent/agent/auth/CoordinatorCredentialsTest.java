package io.gpuagent.agent.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19: what a coordinator presents to each agent: that node's own token from coordinator-token-dir, else
 * (with a client certificate) nothing but the certificate; and today's single coordinator token on a
 * coordinator with neither is refused at start, naming the change.
 */
class CoordinatorCredentialsTest {

    @TempDir
    Path dir;

    @Test
    void todaysSingleCoordinatorTokenOnACoordinatorRefusesToStartAndNamesTheChange() throws Exception {
        Path single = token(dir.resolve("coordinator-token"), "one-for-all");
        String why = new CoordinatorCredentials(Optional.empty(), false, true, Optional.of(single), false).startProblem()
                .orElseThrow();
        assertTrue(why.contains("gpu-agent.auth.coordinator-token-dir") && why.contains("client certificate")
                && why.contains("docs/security.md"), why);
        assertTrue(new CoordinatorCredentials(Optional.of(dir), false, true, Optional.of(single), false).startProblem()
                .isEmpty(), "with a directory of per-agent tokens the single file is only ignored");
        assertTrue(new CoordinatorCredentials(Optional.empty(), true, true, Optional.of(single), false).startProblem()
                .isEmpty(), "with a client certificate");
        assertTrue(new CoordinatorCredentials(Optional.empty(), false, false, Optional.of(single), false).startProblem()
                .isEmpty(), "an agent keeps the file: it is what it accepts");
    }

    @Test
    void eachNodeGetsItsOwnTokenElseTheCertificateAloneElseNothing() throws Exception {
        Path tokens = Files.createDirectory(dir.resolve("coordinator-tokens"));
        token(tokens.resolve("node-a"), "for-a");
        token(tokens.resolve("node-b"), "for-b");
        CoordinatorCredentials tokensOnly = new CoordinatorCredentials(Optional.of(tokens), false, true, Optional.empty(),
                false);
        assertEquals("Bearer for-a", ((CoordinatorCredentials.Bearer) tokensOnly.forNode("node-a")).header());
        assertEquals("Bearer for-b", ((CoordinatorCredentials.Bearer) tokensOnly.forNode("node-b")).header());
        String none = assertThrows(TokenAuth.TokenUnavailable.class, () -> tokensOnly.forNode("node-c")).getMessage();
        assertTrue(none.contains(tokens.resolve("node-c").toString()), none);
        assertThrows(TokenAuth.TokenUnavailable.class, () -> tokensOnly.forNode("../coordinator-tokens/node-a"));

        CoordinatorCredentials withCertificate = new CoordinatorCredentials(Optional.of(tokens), true, true,
                Optional.empty(), false);
        assertInstanceOf(CoordinatorCredentials.Bearer.class, withCertificate.forNode("node-a"));
        assertInstanceOf(CoordinatorCredentials.CertificateOnly.class, withCertificate.forNode("node-c"));
        assertInstanceOf(CoordinatorCredentials.CertificateOnly.class,
                new CoordinatorCredentials(Optional.empty(), true, true, Optional.empty(), false).forNode("node-a"));

        Files.setPosixFilePermissions(tokens.resolve("node-b"), PosixFilePermissions.fromString("rw-r--r--"));
        assertThrows(TokenAuth.TokenUnavailable.class, () -> withCertificate.forNode("node-b"),
                "an unusable file is not silently replaced by the certificate");
    }

    private static Path token(Path file, String text) throws Exception {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }
}
