package io.gpuagent.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gpu-agent check --npd} against a real HTTP server on loopback answering canned {@code /health} bodies. */
class NodeCheckTest {

    private static final String HEALTHY = """
            {"healthy":true,"status":"healthy","reason":null,"nvml":{"up":true,"gpus":8},"problems":[],"gpus":[]}""";

    private HttpServer server;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    /** A server whose /health answers {@code code} with {@code body}; returns its base URL. */
    private String serve(int code, String body) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/health", exchange -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(code, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private record Result(int exit, String out) {
    }

    private Result check(Map<String, String> env, String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exit = NodeCheck.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8), env, new Properties());
        return new Result(exit, bytes.toString(StandardCharsets.UTF_8));
    }

    private static void assertOneShortLine(String out) {
        assertTrue(out.endsWith("\n"), out);
        String line = out.substring(0, out.length() - 1);
        assertEquals(-1, line.indexOf('\n'), "one line: " + out);
        assertTrue(line.codePointCount(0, line.length()) <= 80, line.length() + " characters: " + line);
    }

    @Test
    void healthyIsZero() throws IOException {
        Result r = check(Map.of(), "--npd", "--url", serve(200, HEALTHY));
        assertEquals(0, r.exit(), r.out());
        assertEquals("OK: 8 GPUs healthy\n", r.out());
    }

    @Test
    void degradedIsStillZeroAndSaysWhy() throws IOException {
        Result r = check(Map.of(), "--npd", "--url", serve(200, """
                {"healthy":true,"status":"degraded","reason":"GPU 1 DEGRADED: thermal slowdown","nvml":{"gpus":8}}"""));
        assertEquals(0, r.exit(), r.out());
        assertEquals("OK: 8 GPUs degraded: GPU 1 DEGRADED: thermal slowdown\n", r.out());
    }

    @Test
    void unhealthyIsOneWithTheReasonCutByCharacters() throws IOException {
        // Multi-byte characters: 80 characters are far more than 80 bytes, and a cut must not split one.
        String reason = "GPU 3 (GPU-é\u00e9€) UNHEALTHY: XID 48 (double-bit ECC error), classed fatal; "
                + "GPU 5 ✓✓✓✓✓✓ \uD83D\uDE00\uD83D\uDE00\uD83D\uDE00 LOST: fell off the bus\nsecond line";
        Result r = check(Map.of(), "--npd", "--url", serve(503, """
                {"healthy":false,"status":"unhealthy","reason":%s,"nvml":{"gpus":8}}"""
                .formatted(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(reason))));
        assertEquals(1, r.exit(), r.out());
        assertOneShortLine(r.out());
        assertTrue(r.out().startsWith("GPU 3 (GPU-éé€) UNHEALTHY: XID 48"), r.out());
        assertTrue(r.out().endsWith("...\n"), r.out());
        assertTrue(r.out().getBytes(StandardCharsets.UTF_8).length > 81, "the cut counts characters, not bytes");
    }

    @Test
    void agentDownIsUnknown() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Result r = check(Map.of(), "--npd", "--url", "http://127.0.0.1:" + port);
        assertEquals(2, r.exit(), r.out());
        assertEquals("UNKNOWN: no agent at 127.0.0.1:" + port + ": connection refused\n", r.out());
        assertOneShortLine(r.out());
    }

    @Test
    void aHungAgentIsUnknownWithinTheTimeout() throws IOException {
        // The kernel completes the connection (backlog); nothing ever answers.
        try (ServerSocket hung = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Result r = check(Map.of(), "--npd", "--timeout", "1", "--url", "http://127.0.0.1:" + hung.getLocalPort());
            assertEquals(2, r.exit(), r.out());
            assertEquals("UNKNOWN: no agent at 127.0.0.1:" + hung.getLocalPort() + ": no answer in time\n", r.out());
        }
    }

    @Test
    void somethingElseOnThePortIsUnknown() throws IOException {
        assertEquals(2, check(Map.of(), "--npd", "--url", serve(200, "<html>hello</html>")).exit());
        stop();
        assertEquals(2, check(Map.of(), "--npd", "--url", serve(500, "{\"healthy\":false}")).exit());
        stop();
        // A 200 that says unhealthy is not the agent's answer either.
        assertEquals(2, check(Map.of(), "--npd", "--url", serve(200, "{\"healthy\":false,\"status\":\"unhealthy\"}")).exit());
    }

    @Test
    void badArgumentsAreUnknown() {
        Result r = check(Map.of(), "--npd", "--bogus");
        assertEquals(2, r.exit());
        assertTrue(r.out().startsWith("usage: gpu-agent check"), r.out());
    }

    @Test
    void theAddressComesFromTheAgentsOwnSettings() throws IOException {
        String base = serve(200, HEALTHY);
        String port = base.substring(base.lastIndexOf(':') + 1);
        Path file = Files.writeString(dir.resolve("agent.properties"), "quarkus.http.port=" + port + "\nquarkus.http.host=::\n");
        // The host's file, as the agent reads it (GPU_AGENT_CONFIG), on the wildcard address: asked on loopback.
        Result r = check(Map.of("GPU_AGENT_CONFIG", file.toString()), "--npd");
        assertEquals(0, r.exit(), r.out());
        // The environment wins over the file, as for the agent.
        r = check(Map.of("GPU_AGENT_CONFIG", file.toString(), "QUARKUS_HTTP_PORT", "1"), "--npd");
        assertEquals(2, r.exit(), r.out());
        assertTrue(r.out().contains("127.0.0.1:1:"), r.out());
    }

    @Test
    void httpsOnlyAgentsAreAskedOverHttpsAtTheirAdvertisedName() throws IOException {
        Path file = Files.writeString(dir.resolve("agent.properties"), """
                quarkus.http.insecure-requests=disabled
                quarkus.http.ssl-port=9443
                gpu-agent.advertise-url=https://gpu-7.example:9443
                """);
        NodeCheck.Target t = NodeCheck.Target.of(NodeCheck.Settings.load(Map.of("GPU_AGENT_CONFIG", file.toString()),
                new Properties()));
        assertEquals("https://gpu-7.example:9443/health", t.health().toString());
    }
}
