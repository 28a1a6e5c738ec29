package io.gpuagent.agent.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.TestToken;
import io.gpuagent.agent.auth.AccessRole;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 19: every authenticated endpoint refuses a missing or wrong credential before it reads any of the
 * body, and caps the body while reading it. The endpoints are found by reflection ({@link TokenAuthRequired}),
 * so a new one is covered. Each request declares (or streams) 10 MB but sends only its first KiB: an endpoint
 * that read the body before judging the credential would wait for the rest and never answer, and the read of
 * the answer times out. The old heartbeat read up to 10 MB as JSON before checking the node's token.
 */
@QuarkusTest
@TestProfile(AuthenticationBeforeBodyTest.Coordinator.class)
class AuthenticationBeforeBodyTest {

    static final String NODE = "body-node";
    static final List<Class<?>> RESOURCES = List.of(CoordinatorResource.class, GpuActionsResource.class,
            HealthClearResource.class, LeasesResource.class, RecoveryResource.class);
    static final int TEN_MB = 10_000_000;

    public static class Coordinator implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            TestToken.forNode(NODE);
            return Map.of("gpu-agent.role", "coordinator",
                    "gpu-agent.state-dir", "target/test-state-body-" + System.nanoTime());
        }
    }

    /** One authenticated endpoint: method, concrete path, its cap, and whether it reads a body at all. */
    record Endpoint(String method, String path, int limit, boolean readsBody) {
    }

    @TestHTTPResource("/")
    URL base;

    static List<Endpoint> endpoints() {
        List<Endpoint> out = new ArrayList<>();
        for (Class<?> c : RESOURCES) {
            String root = c.getAnnotation(jakarta.ws.rs.Path.class).value();
            for (Method m : c.getDeclaredMethods()) {
                if (m.getAnnotation(TokenAuthRequired.class) == null) {
                    continue;
                }
                String method = m.isAnnotationPresent(POST.class) ? "POST" : m.isAnnotationPresent(DELETE.class) ? "DELETE"
                        : m.isAnnotationPresent(PUT.class) ? "PUT" : "GET";
                jakarta.ws.rs.Path sub = m.getAnnotation(jakarta.ws.rs.Path.class);
                String path = (root + (sub == null ? "" : "/" + sub.value())).replace("//", "/")
                        .replace("{name}", NODE).replaceAll("\\{[^}]*}", "0");   // {id}, a MIG device's {gi}, {ci}
                BodyLimit limit = m.getAnnotation(BodyLimit.class);
                boolean readsBody = java.util.Arrays.stream(m.getParameters())
                        .anyMatch(p -> p.getType() == String.class && p.getAnnotations().length == 0);
                out.add(new Endpoint(method, path, limit == null ? BodyLimit.DEFAULT : limit.value(), readsBody));
            }
        }
        return out;
    }

    @Test
    void everyAuthenticatedEndpointIsFound() {
        List<Endpoint> all = endpoints();
        assertTrue(all.size() >= 13, "found only " + all);
        assertTrue(all.contains(new Endpoint("POST", "/v1/nodes/" + NODE + "/heartbeat", 512 * 1024, true)), all.toString());
    }

    @Test
    void aWrongOrMissingCredentialIsRefusedBeforeTheBodyIsRead() throws Exception {
        for (Endpoint e : endpoints()) {
            for (String authorization : new String[] {null, "Bearer wrong-" + System.nanoTime()}) {
                // An endpoint that takes no body refuses one (415, StrictRequests) before the credential is looked at:
                // refused before a byte of it is read all the same.
                int declared = status(e, authorization, false, 1024);
                assertTrue(e.readsBody() ? declared == 401 || declared == 403 || declared == 413 : declared == 415,
                        e + " " + authorization + ": " + declared);
                int streamed = status(e, authorization, true, 1024);
                assertEquals(!e.readsBody() ? 415 : authorization == null ? 401 : 403, streamed,
                        e + " " + authorization + " (chunked)");
            }
        }
    }

    @Test
    void aBodyOverTheEndpointsCapIs413WhileReading() throws Exception {
        TestToken.forNode(NODE);
        for (Endpoint e : endpoints()) {
            String token = "Bearer " + TestToken.get();
            assertEquals(e.readsBody() ? 413 : 415, status(e, token, false, 1024), e + ": a declared length over the cap");
            if (e.readsBody()) {
                assertEquals(413, status(e, token, true, e.limit() + 64 * 1024), e + ": a streamed body over the cap");
            }
        }
    }

    /**
     * Sends the request head and {@code send} bytes of a body declared (or streamed) as 10 MB, then reads the
     * status line; a server still waiting for the body makes this time out.
     */
    private int status(Endpoint e, String authorization, boolean chunked, int send) throws IOException {
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(10_000);
            StringBuilder head = new StringBuilder(e.method() + " " + e.path() + " HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\n");
            if (authorization != null) {
                head.append("Authorization: ").append(authorization).append("\r\n");
            }
            head.append(chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + TEN_MB + "\r\n").append("\r\n");
            OutputStream out = s.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[1024];
            java.util.Arrays.fill(chunk, (byte) ' ');
            chunk[0] = '[';
            try {
                for (int sent = 0; sent < send; sent += chunk.length) {
                    if (chunked) {
                        out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write(chunk);
                    if (chunked) {
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    chunk[0] = ' ';
                }
                out.flush();
            } catch (IOException refusedWhileSending) {
                // the server answered and closed before the last bytes: read what it said
            }
            try {
                String line = statusLine(s.getInputStream());
                assertTrue(line.startsWith("HTTP/1.1 "), e + ": " + line);
                return Integer.parseInt(line.substring(9, 12));
            } catch (SocketTimeoutException waitedForTheBody) {
                throw new AssertionError(e + " with " + (authorization == null ? "no token" : "a token")
                        + " did not answer within 10 s of the first KiB: it waits for the body", waitedForTheBody);
            }
        }
    }

    private static String statusLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            line.write(b);
        }
        return line.toString(StandardCharsets.US_ASCII).strip();
    }
}
