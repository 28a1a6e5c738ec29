package io.gpuagent.agent.http;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Every path the agent serves, the methods each takes, its query parameters and whether it takes a JSON body:
 * the one table {@link StrictRequests} answers 404 (OPTIONS), 405, 400 and 415 from, the same way for the JAX-RS
 * resources, the Vert.x routes ({@code /metrics}, the event stream) and Quarkus' own {@code /q/metrics} and
 * {@code /q/health/*}. {@code EndpointsTest} checks it against the resources' annotations. HEAD is allowed
 * wherever GET is, and OPTIONS everywhere (204 with {@code Allow}).
 */
final class Endpoints {

    /** What a method of an endpoint reads from the request body. */
    enum Body {
        /** Nothing: a body is refused (415). */
        NONE,
        /** JSON, when there is a body at all ({@code Content-Type: application/json}, optionally UTF-8). */
        JSON
    }

    /**
     * One path template ({@code {x}} is one path segment; {@code {x:regex}} one that matches the regex, as in a
     * JAX-RS template: a MIG device's instance ids are digits, so {@code /v1/gpus/0/2} is not
     * {@code /v1/gpus/0/cordon}), the methods it takes, its query parameters (null: not
     * ours to check, Quarkus' own endpoints), what its mutating methods read, and whether it exists only on a
     * coordinator.
     */
    record Endpoint(String template, Pattern pattern, Set<String> methods, Set<String> query, Body body,
                    boolean coordinatorOnly) {

        String allow() {
            Set<String> all = new LinkedHashSet<>(methods);
            if (all.contains("GET")) {
                all.add("HEAD");
            }
            all.add("OPTIONS");
            return String.join(", ", all);
        }

        boolean allows(String method) {
            return methods.contains(method) || method.equals("HEAD") && methods.contains("GET");
        }
    }

    static final List<Endpoint> ALL = List.of(
            open("/metrics", "GET"),
            open("/health", "GET"),
            open("/health/node", "GET"),
            open("/health/gpus/{id}", "GET"),
            open("/health/gpus/{id}/{gi:[0-9]+}", "GET"),
            open("/health/gpus/{id}/{gi:[0-9]+}/{ci:[0-9]+}", "GET"),
            quarkus("/q/metrics"),
            quarkus("/q/health"),
            open("/v1/gpus", "GET"),
            open("/v1/gpus/{id}", "GET"),
            open("/v1/gpus/{id}/{gi:[0-9]+}", "GET"),
            open("/v1/gpus/{id}/{gi:[0-9]+}/{ci:[0-9]+}", "GET"),
            json("/v1/gpus/{id}/cordon"),
            json("/v1/gpus/{id}/uncordon"),
            json("/v1/gpus/{id}/drain"),
            json("/v1/gpus/{id}/reset", "force"),
            json("/v1/gpus/{id}/diag"),
            json("/v1/gpus/{id}/health/clear"),
            json("/v1/gpus/{id}/{gi:[0-9]+}/health/clear"),
            json("/v1/gpus/{id}/{gi:[0-9]+}/{ci:[0-9]+}/health/clear"),
            json("/v1/node/health/clear"),
            open("/v1/events", "GET", "since", "before", "gpu", "limit"),
            open("/v1/events/stream", "GET", "since", "gpu"),
            open("/v1/actions", "GET", "before", "gpu", "limit"),
            open("/v1/actions/{actionId}", "GET"),
            open("/v1/recovery", "GET"),
            json("/v1/recovery/breaker/reset"),
            json("/v1/config/reload"),
            open("/v1/inventory", "GET"),
            endpoint("/v1/leases", Set.of("GET", "POST"), Set.of(), Body.JSON, false),
            endpoint("/v1/leases/{id}", Set.of("GET", "DELETE"), Set.of(), Body.NONE, false),
            endpoint("/v1/leases/{id}/heartbeat", Set.of("POST"), Set.of(), Body.NONE, false),
            open("/v1/leases/{id}/usage", "GET"),
            open("/v1/usage", "GET", "since", "until", "job", "limit"),
            endpoint("/v1/nodes", Set.of("GET"), Set.of(), Body.NONE, true),
            endpoint("/v1/nodes/heartbeat", Set.of("POST"), Set.of(), Body.JSON, true),
            endpoint("/v1/nodes/{name}/heartbeat", Set.of("POST"), Set.of(), Body.JSON, true),
            endpoint("/v1/nodes/{name}/forget", Set.of("POST"), Set.of(), Body.NONE, true),
            endpoint("/v1/placements", Set.of("GET", "POST"), Set.of(), Body.JSON, true),
            endpoint("/v1/placements/{id}", Set.of("GET", "DELETE"), Set.of(), Body.NONE, true),
            endpoint("/v1/placements/{id}/usage", Set.of("GET"), Set.of(), Body.NONE, true));

    private Endpoints() {
    }

    /** The endpoints without a path parameter, by path: {@code /metrics} is found without a regex or a stream. */
    private static final Map<String, Endpoint> LITERAL = ALL.stream().filter(e -> !e.template().contains("{")
            && !e.template().startsWith("/q/")).collect(Collectors.toUnmodifiableMap(Endpoint::template, e -> e));

    /** The endpoint serving {@code path} (already normalized, without the query), if any. */
    static Optional<Endpoint> find(String path) {
        String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        Endpoint literal = LITERAL.get(p);
        if (literal != null) {
            return Optional.of(literal);
        }
        // No two templates match one path (EndpointsTest), so the first match is the only one.
        for (Endpoint e : ALL) {
            if (e.pattern().matcher(p).matches()) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    private static Endpoint open(String template, String method, String... query) {
        return endpoint(template, Set.of(method), Set.of(query), Body.NONE, false);
    }

    private static Endpoint json(String template, String... query) {
        return endpoint(template, Set.of("POST"), Set.of(query), Body.JSON, false);
    }

    /** Quarkus' own endpoints: the path and everything under it, GET (and HEAD) only, its parameters its own. */
    private static Endpoint quarkus(String prefix) {
        return new Endpoint(prefix, Pattern.compile(Pattern.quote(prefix) + "(/.*)?"), Set.of("GET"), null,
                Body.NONE, false);
    }

    /** One template segment's regex: a literal, {@code {x}} (any one segment) or {@code {x:regex}}. */
    private static String segment(String s) {
        if (!s.startsWith("{")) {
            return Pattern.quote(s);
        }
        int colon = s.indexOf(':');
        return colon < 0 ? "[^/]+" : "(?:" + s.substring(colon + 1, s.length() - 1).strip() + ")";
    }

    private static Endpoint endpoint(String template, Set<String> methods, Set<String> query, Body body,
                                     boolean coordinatorOnly) {
        String regex = Arrays.stream(template.substring(1).split("/"))
                .map(Endpoints::segment).collect(Collectors.joining("/", "/", ""));
        // Sorted, so that Allow lists the methods in one order every time.
        Set<String> sorted = methods.stream().sorted().collect(Collectors.toCollection(LinkedHashSet::new));
        return new Endpoint(template, Pattern.compile(regex), sorted, query, body, coordinatorOnly);
    }
}
