package io.gpuagent.agent.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@link Endpoints} is a second description of what the resources' annotations say, so it is checked against
 * them: every JAX-RS method is in the table with its method, its query parameters and whether it reads a body,
 * and every table entry that is no Vert.x route or Quarkus endpoint is served by a resource method.
 */
class EndpointsTest {

    /** Routes outside JAX-RS: Vert.x routes and Quarkus' own endpoints. */
    static final Set<String> NOT_JAX_RS = Set.of("/metrics", "/v1/events/stream", "/q/metrics", "/q/health");

    /**
     * Paths of an older version that answer 410 without reading their body: the table lets the old clients' JSON
     * bodies through so that they get the 410 that says where to go, not a 415.
     */
    static final Set<String> GONE = Set.of("/v1/nodes/heartbeat");

    record ResourceMethod(String template, String method, Set<String> query, boolean body, String where) {
    }

    @Test
    void everyResourceMethodIsInTheTableAsItIsDeclared() throws Exception {
        List<ResourceMethod> methods = resourceMethods();
        assertTrue(methods.size() >= 25, "found only " + methods);
        for (ResourceMethod m : methods) {
            var e = Endpoints.find(sample(m.template())).orElseThrow(() -> new AssertionError("not in Endpoints: " + m));
            assertEquals(shape(m.template()), shape(e.template()), m.where());
            assertTrue(e.allows(m.method()), m.where() + ": Endpoints does not allow " + m.method());
            assertTrue(e.query().containsAll(m.query()), m.where() + ": query parameters " + m.query() + " vs " + e.query());
            if (!m.method().equals("GET") && !GONE.contains(m.template())) {
                assertEquals(m.body() ? Endpoints.Body.JSON : Endpoints.Body.NONE, e.body(), m.where());
            }
        }
    }

    @Test
    void everyTableEntryIsServedAndNoPathMatchesTwo() throws Exception {
        List<ResourceMethod> methods = resourceMethods();
        for (Endpoints.Endpoint e : Endpoints.ALL) {
            long matching = Endpoints.ALL.stream().filter(o -> o.pattern().matcher(sample(e.template())).matches()).count();
            assertEquals(1, matching, e.template() + " is matched by " + matching + " entries");
            if (NOT_JAX_RS.contains(e.template())) {
                continue;
            }
            for (String method : e.methods()) {
                assertTrue(methods.stream().anyMatch(m -> shape(m.template()).equals(shape(e.template()))
                        && m.method().equals(method)), "no resource method for " + method + " " + e.template());
            }
        }
    }

    @Test
    void headIsAllowedWhereGetIsAndOptionsEverywhere() {
        var gpus = Endpoints.find("/v1/gpus/0").orElseThrow();
        assertEquals("GET, HEAD, OPTIONS", gpus.allow());
        assertTrue(gpus.allows("HEAD"));
        assertFalse(gpus.allows("POST"));
        assertEquals("POST, OPTIONS", Endpoints.find("/v1/gpus/0/cordon").orElseThrow().allow());
        assertEquals("GET, POST, HEAD, OPTIONS", Endpoints.find("/v1/leases").orElseThrow().allow());
        assertTrue(Endpoints.find("/q/health/live").isPresent());
        assertTrue(Endpoints.find("/v1/gpus/").isPresent(), "a trailing slash is the same path, as for JAX-RS");
        assertTrue(Endpoints.find("/v1/nope").isEmpty());
        assertTrue(Endpoints.find("/v1/gpus/0/cordon/x").isEmpty());
    }

    @Test
    void aJsonBodyIsApplicationJsonInUtf8Only() {
        assertTrue(StrictRequests.json("application/json"));
        assertTrue(StrictRequests.json("Application/JSON; charset=UTF-8"));
        assertTrue(StrictRequests.json("application/json;charset=\"utf-8\""));
        assertFalse(StrictRequests.json("application/json; charset=ebcdic"));
        assertFalse(StrictRequests.json("application/json; boundary=x"));
        assertFalse(StrictRequests.json("text/plain"));
        assertFalse(StrictRequests.json("application/x-www-form-urlencoded"));
        assertFalse(StrictRequests.json("application/jsonx"));
        assertFalse(StrictRequests.json(""));
    }

    private static List<ResourceMethod> resourceMethods() throws IOException, ClassNotFoundException {
        List<ResourceMethod> found = new ArrayList<>();
        java.nio.file.Path dir = java.nio.file.Path.of("target/classes/io/gpuagent/agent/http");
        try (Stream<java.nio.file.Path> files = Files.list(dir)) {
            for (java.nio.file.Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                String name = f.getFileName().toString();
                Class<?> c = Class.forName("io.gpuagent.agent.http." + name.substring(0, name.length() - ".class".length()));
                Path root = c.getAnnotation(Path.class);
                if (root == null) {
                    continue;
                }
                for (Method m : c.getDeclaredMethods()) {
                    String http = httpMethod(m);
                    if (http == null) {
                        continue;
                    }
                    Path sub = m.getAnnotation(Path.class);
                    String template = (root.value() + (sub == null ? "" : "/" + sub.value())).replaceAll("/+", "/");
                    Set<String> query = new HashSet<>();
                    boolean body = false;
                    for (Parameter p : m.getParameters()) {
                        if (p.getAnnotation(QueryParam.class) != null) {
                            query.add(p.getAnnotation(QueryParam.class).value());
                        }
                        body |= p.getAnnotations().length == 0 && p.getType() == String.class;
                    }
                    found.add(new ResourceMethod(template, http, query, body, c.getSimpleName() + "." + m.getName()));
                }
            }
        }
        return found;
    }

    private static String httpMethod(Method m) {
        return Stream.of(m.getAnnotations()).map(a -> a.annotationType().getAnnotation(HttpMethod.class))
                .filter(h -> h != null).map(HttpMethod::value).findFirst().orElse(null);
    }

    private static String shape(String template) {
        return template.replaceAll("\\{[^}]*}", "{}");
    }

    private static String sample(String template) {
        return template.replaceAll("\\{[^}]*}", "0");
    }
}
