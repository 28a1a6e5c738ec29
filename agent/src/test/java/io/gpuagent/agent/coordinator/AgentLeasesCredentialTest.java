package io.gpuagent.agent.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.gpuagent.agent.auth.CoordinatorCredentials;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19: what the coordinator's lease calls carry: the token made for that node's agent, or, in
 * certificate-only mode (a client certificate and no token file for the node), no Authorization header at all,
 * which the agent's ClientCertificateAuth accepts (CoordinatorClientCertificateTest); and no call at all to an
 * agentUrl the rules refuse. A JDK HTTP server records what arrives.
 */
class AgentLeasesCredentialTest {

    @TempDir
    Path dir;

    private HttpServer agent;
    private final List<String> received = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        agent = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        agent.createContext("/v1/leases", ex -> {
            try (ex) {
                String a = ex.getRequestHeaders().getFirst("Authorization");
                received.add(a == null ? "" : a);
                byte[] none = "{\"status\":404,\"detail\":\"no such lease\"}".getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(404, none.length);
                ex.getResponseBody().write(none);
            }
        });
        agent.start();
    }

    @AfterEach
    void stop() {
        agent.stop(0);
    }

    private String url() {
        return "http://127.0.0.1:" + agent.getAddress().getPort();
    }

    private AgentLeases leases(CoordinatorCredentials credentials, boolean allowLoopback) {
        return new AgentLeases(credentials, FakeAgent.JSON, new BoundedCall(HttpClient.newHttpClient(),
                Duration.ofSeconds(10)), new AgentUrlPolicy(false, allowLoopback));
    }

    @Test
    void eachNodeGetsItsOwnTokenAndCertificateOnlyModeSendsNoHeader() throws Exception {
        Path tokens = Files.createDirectory(dir.resolve("tokens"));
        Files.writeString(tokens.resolve("node-a"), "for-a");
        Files.setPosixFilePermissions(tokens.resolve("node-a"), PosixFilePermissions.fromString("rw-------"));
        AgentLeases withCertificate = leases(new CoordinatorCredentials(Optional.of(tokens), true, true, Optional.empty(),
                false), true);
        assertInstanceOf(AgentLeases.Released.class, withCertificate.release("node-a", url(), "l-1"));
        assertInstanceOf(AgentLeases.Released.class, withCertificate.release("node-b", url(), "l-2"));
        assertEquals(List.of("Bearer for-a", ""), received, "node-b has no token file: the certificate alone");

        AgentLeases tokensOnly = leases(new CoordinatorCredentials(Optional.of(tokens), false, true, Optional.empty(),
                false), true);
        AgentLeases.Release none = tokensOnly.release("node-b", url(), "l-3");
        assertTrue(none instanceof AgentLeases.NotReleased n && n.detail().contains("no credential for node node-b"),
                String.valueOf(none));
        assertEquals(2, received.size(), "nothing is sent without a credential for that node");
    }

    @Test
    void aRefusedAgentUrlIsNeverCalled() throws Exception {
        Path tokens = Files.createDirectory(dir.resolve("tokens"));
        Files.writeString(tokens.resolve("node-a"), "for-a");
        Files.setPosixFilePermissions(tokens.resolve("node-a"), PosixFilePermissions.fromString("rw-------"));
        AgentLeases strict = leases(new CoordinatorCredentials(Optional.of(tokens), false, true, Optional.empty(), false),
                false);
        AgentLeases.Take t = strict.take(new Placer.Part("node-a", url(), List.of("GPU-1")), "job", null);
        assertTrue(t instanceof AgentLeases.Failed f && f.detail().contains("loopback"), String.valueOf(t));
        assertEquals(List.of(), received, "the token never left the coordinator");
    }
}
