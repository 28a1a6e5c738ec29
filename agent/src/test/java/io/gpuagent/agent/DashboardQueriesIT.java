package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Promtool;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every query of every dashboard in {@code grafana/dashboards/} (panels, variables, annotations) and every
 * recording rule in {@code rules/}, run through a real Prometheus that scrapes a real coordinator and a real
 * agent (the packaged jar) on the fake driver, with a GPU in MIG mode, faults, a cordon and leases injected so
 * that every panel has something to show: each query must parse and return data, the MIG panels' included. A
 * misspelt metric or label fails here.
 * The same Prometheus loads {@code rules/}; two alerts are checked against the real series as well.
 */
class DashboardQueriesIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    static final Path DASHBOARDS = Path.of("../grafana/dashboards");
    static final Path RULES = Path.of("../rules");
    static final Duration START = Duration.ofSeconds(90);
    /** Grafana's interval variables, for a Prometheus scraping every second. */
    static final Map<String, String> BUILT_INS = Map.of("$__rate_interval", "10s", "$__interval", "1s", "$__range", "5m");
    static final Pattern LABEL_VALUES = Pattern.compile("^label_values\\((.+),\\s*(\\w+)\\)$");
    static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)}|\\$(\\w+)");
    /**
     * GPU 7 in MIG mode (issue 20's layout: 1g.10gb x3, 3g.40gb x1, memory and GPM activity on two instances, a
     * mode change pending), so that the MIG panels (series per GPU instance, {@code gpu_agent_mig_*}) have data.
     * It is not leasable whole: 7 GPUs are.
     */
    static final String MIG_GPU = """
            gpu.7.mig_mode = 1
            gpu.7.mig_pending = 0
            gpu.7.mig.2.profile = 3g.40gb
            gpu.7.mig.2.memory_used_mib = 18432
            gpu.7.mig.2.gpm.1 = 62.5
            gpu.7.mig.7.profile = 1g.10gb
            gpu.7.mig.7.memory_used_mib = 4096
            gpu.7.mig.7.gpm.1 = 12
            gpu.7.mig.8.profile = 1g.10gb
            gpu.7.mig.9.profile = 1g.10gb
            """;
    static final int LEASABLE_WHOLE = 7;

    /** One query of a dashboard: where it is (for the failure message), its PromQL, and how Grafana runs it. */
    record Query(String where, String expr, boolean instant) {
    }

    private final List<PackagedAgent> agents = new ArrayList<>();
    private Process prometheusServer;
    private Path dir;
    private String token;
    private Instant since;

    @AfterEach
    void stop() throws InterruptedException {
        agents.stream().filter(PackagedAgent::isAlive).forEach(a -> a.process().destroy());   // all stop at once
        if (prometheusServer != null) {
            prometheusServer.destroy();
            prometheusServer.waitFor();
        }
        agents.forEach(PackagedAgent::close);
    }

    @Test
    void everyDashboardQueryAndRecordingRuleReturnsDataFromARealPrometheus() throws Exception {
        Path prometheus = Promtool.require("prometheus");
        List<Path> dashboards;
        try (Stream<Path> files = Files.list(DASHBOARDS)) {
            dashboards = files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
        assertFalse(dashboards.isEmpty(), "no dashboards in " + DASHBOARDS);

        dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "it-dashboards");
        token = "it-" + UUID.randomUUID();
        Path tokenFile = dir.resolve("token");
        Files.writeString(Files.createFile(tokenFile,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))), token);
        // Every counter the agent can export, so the panels on opt-in counters have data too.
        Path counters = dir.resolve("all-counters.csv");
        try (InputStream in = getClass().getResourceAsStream("/io/gpuagent/exporter/all-counters.csv")) {
            Files.copy(in, counters);
        }
        // The node's own credential at the coordinator (issue 19: the old token is no node credential there).
        Path nodeTokens = dir.resolve("node-tokens");
        PackagedAgent.writeCredential(nodeTokens.resolve("dash-node"), token);
        // And the coordinator credential made for that node's agent (the agent accepts its old token-file as it).
        Path coordinatorTokens = dir.resolve("coordinator-tokens");
        PackagedAgent.writeCredential(coordinatorTokens.resolve("dash-node"), token);
        PackagedAgent coordinatorAgent = PackagedAgent.named("dashboards-coordinator").dir(dir.resolve("coordinator"))
                .noDriver().property("gpu-agent.auth.token-file", tokenFile).property("gpu-agent.role", "coordinator")
                .property("gpu-agent.auth.node-token-dir", nodeTokens.toAbsolutePath())
                .property("gpu-agent.auth.coordinator-token-dir", coordinatorTokens.toAbsolutePath())
                .property("gpu-agent.coordinator.allow-loopback-agents", "true").start();
        agents.add(coordinatorAgent);
        int coordinatorPort = coordinatorAgent.port();
        PackagedAgent node = PackagedAgent.named("dashboards-node").dir(dir.resolve("node")).scenario("gpus = 8\n" + MIG_GPU)
                .property("gpu-agent.auth.token-file", tokenFile).property("gpu-agent.counters-file", counters)
                .property("gpu-agent.hostname", "dash-node").property("gpu-agent.advertise-url", "http://127.0.0.1:{port}")
                .property("gpu-agent.coordinator.url", "http://127.0.0.1:" + coordinatorPort)
                .property("gpu-agent.coordinator.heartbeat-interval", "300ms")
                .property("gpu-agent.coordinator.retry-initial-delay", "100ms")
                .property("gpu-agent.sample-interval", "500ms").property("gpu-agent.gpu-deadline", "400ms")
                // the node checks' InfiniBand panels need ports: a healthy DGX's sysfs tree
                .property("gpu-agent.health.node.root", Path.of("src/test/resources/host/dgx-h100").toAbsolutePath())
                .property("gpu-agent.health.node.interval", "1s").start();
        agents.add(node);
        int agentPort = node.port();
        String coordinator = "http://127.0.0.1:" + coordinatorPort;
        String agent = "http://127.0.0.1:" + agentPort;

        // Registered, the 7 whole GPUs leasable, all 8 watched for driver events (an event fired before is lost).
        node.await(START, () -> {
            assertEquals(LEASABLE_WHOLE, leasable(coordinator), "leasable GPUs the coordinator sees");
            assertEquals(4, migDevices(coordinator), "MIG devices the coordinator sees");
            assertTrue(body(agent + "/metrics").contains("gpu_agent_event_watch_gpus 8.0\n"), "watching all 8 GPUs");
        });
        int prometheusPort = PackagedAgent.freePort();
        prometheusServer = startPrometheus(prometheus, prometheusPort, List.of("127.0.0.1:" + coordinatorPort, "127.0.0.1:" + agentPort));
        since = Instant.now();

        // Placement: a job on two GPUs (leases on the agent), one that cannot fit, and an operator cordon.
        assertEquals(201, send(post(coordinator + "/v1/placements", "{\"jobId\":\"dash-job\",\"gpus\":2,"
                + "\"constraints\":{\"ttlSeconds\":600}}")).statusCode());
        assertEquals(409, send(post(coordinator + "/v1/placements", "{\"jobId\":\"too-big\",\"gpus\":64}")).statusCode());
        // And one of two MIG devices by profile: the coordinator places it on GPU 7's 1g.10gb instances.
        HttpResponse<String> mig = send(post(coordinator + "/v1/placements", "{\"jobId\":\"dash-mig\","
                + "\"mig\":{\"profile\":\"1g.10gb\",\"count\":2},\"constraints\":{\"ttlSeconds\":600}}"));
        assertEquals(201, mig.statusCode(), mig.body());
        JsonNode migGpus = JSON.readTree(mig.body()).path("allocations").path(0).path("gpus");
        assertEquals(2, migGpus.size(), mig.body());
        migGpus.forEach(u -> assertTrue(u.asText().startsWith("MIG-"), mig.body()));
        assertEquals(200, send(post(agent + "/v1/gpus/7/cordon", "{\"reason\":\"dashboard test\"}")).statusCode());
        // Faults: a warning XID, a fatal XID, a GPU off the bus, a link down, a pending remap, failing NVML
        // calls, PCIe replays, a hot GPU, and a warning XID on one MIG device of GPU 7.
        node.scenario("""
                gpus = 8
                event.1 = 0 xid 13
                event.2 = 1 xid 48
                event.3 = 5 xid 79
                gpu.5.lost = 1
                gpu.6.nvlink.3.active = 0
                gpu.4.remap_pending = 1
                gpu.3.error.nvmlDeviceGetPowerUsage = 999
                gpu.2.pcie_replay = 12
                gpu.2.temp = 88
                event.4 = 7 xid 13 gi=8
                """ + MIG_GPU);
        FakeNvml.eventually(Duration.ofSeconds(30), () -> {
            String metrics = body(agent + "/metrics");
            assertTrue(metrics.contains("xid=\"79\",} 1.0"), "XID 79 counted");
            assertTrue(metrics.contains("gpu=\"5\",state=\"lost\",} 1.0"), "GPU 5 lost");
            assertTrue(metrics.contains("gpu_agent_nvml_errors_total{"), "an NVML error counted");
        });

        String api = "http://127.0.0.1:" + prometheusPort + "/api/v1/";
        // Retried until Prometheus has scraped enough for the rate windows; a misspelt query never passes.
        FakeNvml.eventually(Duration.ofSeconds(60), () -> assertEquals(List.of(), problems(api, dashboards),
                "queries that failed or returned nothing (Prometheus log: " + dir.resolve("prometheus.log") + ")"));

        // The alert rules read the same real series: the fatal XIDs fire (no for:), the coordinator, which has
        // no NVML by design, is not taken for a host whose NVML is down.
        FakeNvml.eventually(Duration.ofSeconds(10), () -> {
            TreeSet<String> fatal = new TreeSet<>();
            get(api + "query?query=" + enc("ALERTS{alertname=\"GpuFatalXid\",alertstate=\"firing\"}")).path("data")
                    .path("result").forEach(a -> fatal.add(a.path("metric").path("xid").asText()));
            assertEquals(new TreeSet<>(List.of("48", "79")), fatal, "GpuFatalXid alerts by XID");
        });
        assertEquals(0, get(api + "query?query=" + enc("ALERTS{alertname=\"GpuAgentNvmlDown\"}")).path("data").path("result").size(),
                "GpuAgentNvmlDown for the coordinator");
    }

    /** What is wrong with the dashboards and recording rules, one line each; empty when all is well. */
    private List<String> problems(String api, List<Path> dashboards) {
        List<String> problems = new ArrayList<>();
        try {
            for (Path file : dashboards) {
                problems.addAll(dashboardProblems(api, file.getFileName().toString(), JSON.readTree(file.toFile())));
            }
            for (String line : Files.readAllLines(RULES.resolve("gpu-agent-recording.yml"))) {
                Matcher m = Pattern.compile("^\\s*- record: (\\S+)").matcher(line);
                if (m.find() && !hasData(api, m.group(1), true)) {
                    problems.add("recording rule " + m.group(1) + ": no data");
                }
            }
        } catch (IOException e) {
            problems.add(e.toString());
        }
        return problems;
    }

    private List<String> dashboardProblems(String api, String name, JsonNode dashboard) {
        List<String> problems = new ArrayList<>();
        List<JsonNode> variables = new ArrayList<>();
        dashboard.path("templating").path("list").forEach(variables::add);
        List<Map<String, String>> bindings = bind(api, name, variables, 0, new LinkedHashMap<>(), problems);
        List<Query> queries = new ArrayList<>();
        for (JsonNode panel : panels(dashboard)) {
            String title = name + " panel '" + panel.path("title").asText() + "'";
            if (!panel.path("targets").isArray() || panel.path("targets").isEmpty()) {
                problems.add(title + ": no query");
            }
            if (!"${datasource}".equals(panel.path("datasource").path("uid").asText())) {
                problems.add(title + ": does not use the data source variable");
            }
            panel.path("targets").forEach(t -> queries.add(new Query(title + " " + t.path("refId").asText(),
                    t.path("expr").asText(), t.path("instant").asBoolean())));
        }
        dashboard.path("annotations").path("list").forEach(a -> {
            if (a.has("expr")) {
                queries.add(new Query(name + " annotation '" + a.path("name").asText() + "'", a.path("expr").asText(), false));
            }
        });
        for (Query q : queries) {
            boolean data = false;
            for (Map<String, String> values : bindings) {
                try {
                    data = hasData(api, substitute(q.expr(), values), q.instant());
                } catch (IllegalArgumentException e) {
                    problems.add(q.where() + ": " + e.getMessage());
                    data = true;   // reported
                }
                if (data) {
                    break;
                }
            }
            if (!data && !bindings.isEmpty()) {
                problems.add(q.where() + ": no data for any of " + bindings + ": " + q.expr());
            }
        }
        return problems;
    }

    /**
     * Every combination of variable values a person could pick: a multi-value variable takes "All" (its
     * values as a regex alternation, as Grafana does), a single-value one each of its values in turn. A later
     * variable's query sees the earlier ones (host, then the GPUs of that host).
     */
    private List<Map<String, String>> bind(String api, String dashboard, List<JsonNode> variables, int next,
                                           Map<String, String> chosen, List<String> problems) {
        if (next == variables.size()) {
            return List.of(new LinkedHashMap<>(chosen));
        }
        JsonNode v = variables.get(next);
        String name = v.path("name").asText();
        if (!"query".equals(v.path("type").asText())) {
            return bind(api, dashboard, variables, next + 1, chosen, problems);
        }
        JsonNode q = v.path("query");
        String query = substitute(q.isTextual() ? q.asText() : q.path("query").asText(), chosen);
        List<String> values = labelValues(api, query);
        if (values.isEmpty()) {
            problems.add(dashboard + " variable " + name + ": no values from " + query);
            return List.of();
        }
        List<Map<String, String>> out = new ArrayList<>();
        List<String> picks = v.path("multi").asBoolean() || v.path("includeAll").asBoolean()
                ? List.of("(" + String.join("|", values.stream().map(DashboardQueriesIT::regexQuote).toList()) + ")")
                : values;
        for (String pick : picks) {
            chosen.put(name, pick);
            out.addAll(bind(api, dashboard, variables, next + 1, chosen, problems));
            chosen.remove(name);
        }
        return out;
    }

    /** Grafana's {@code label_values(selector, label)} through the series API. */
    private List<String> labelValues(String api, String query) {
        Matcher m = LABEL_VALUES.matcher(query.strip());
        assertTrue(m.matches(), "a variable query this test does not know: " + query);
        JsonNode r = get(api + "series?match[]=" + enc(m.group(1)) + "&start=" + since.getEpochSecond());
        TreeSet<String> values = new TreeSet<>();
        r.path("data").forEach(s -> {
            if (s.has(m.group(2))) {
                values.add(s.path(m.group(2)).asText());
            }
        });
        return List.copyOf(values);
    }

    /** Runs the query (instant, or over the time since Prometheus started); a parse error throws. */
    private boolean hasData(String api, String expr, boolean instant) {
        long now = Instant.now().getEpochSecond();
        JsonNode r = get(instant ? api + "query?query=" + enc(expr)
                : api + "query_range?query=" + enc(expr) + "&start=" + since.getEpochSecond() + "&end=" + now + "&step=1");
        if (!"success".equals(r.path("status").asText())) {
            throw new IllegalArgumentException(r.path("errorType").asText() + ": " + r.path("error").asText() + ": " + expr);
        }
        JsonNode result = r.path("data").path("result");
        if ("scalar".equals(r.path("data").path("resultType").asText())) {
            return true;
        }
        for (JsonNode series : result) {
            if (series.has("value") || series.path("values").size() > 0) {
                return true;
            }
        }
        return false;
    }

    static String substitute(String expr, Map<String, String> values) {
        for (Map.Entry<String, String> b : BUILT_INS.entrySet()) {
            expr = expr.replace(b.getKey(), b.getValue());
        }
        Matcher m = VARIABLE.matcher(expr);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            assertTrue(values.containsKey(name), "unknown variable $" + name + " in " + expr);
            m.appendReplacement(out, Matcher.quoteReplacement(values.get(name)));
        }
        return m.appendTail(out).toString();
    }

    /** Panels, including those inside collapsed rows; rows themselves are layout only. */
    private static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : dashboard.path("panels")) {
            if ("row".equals(p.path("type").asText())) {
                p.path("panels").forEach(out::add);
            } else {
                out.add(p);
            }
        }
        return out;
    }

    private static String regexQuote(String value) {
        return value.replaceAll("[\\\\^$*+?.()|\\[\\]{}]", "\\\\\\\\$0");
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private int leasable(String coordinator) {
        int n = 0;
        for (JsonNode node : get(coordinator + "/v1/nodes")) {
            for (JsonNode g : node.path("inventory").path("gpus")) {
                n += g.path("leasable").asBoolean() ? 1 : 0;
            }
        }
        return n;
    }

    private int migDevices(String coordinator) {
        int n = 0;
        for (JsonNode node : get(coordinator + "/v1/nodes")) {
            n += node.path("inventory").path("mig").size();
        }
        return n;
    }

    private Process startPrometheus(Path prometheus, int port, List<String> targets) throws IOException {
        Files.writeString(dir.resolve("prometheus.yml"), """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                rule_files:
                  - %s
                  - %s
                scrape_configs:
                  - job_name: gpu-agent
                    static_configs:
                      - targets: ['%s']
                """.formatted(RULES.resolve("gpu-agent-recording.yml").toAbsolutePath(),
                RULES.resolve("gpu-agent-alerts.yml").toAbsolutePath(), String.join("', '", targets)));
        return new ProcessBuilder(prometheus.toString(), "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("prometheus-data"), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
    }

    private HttpRequest post(String url, String json) {
        return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(request.uri() + " not answering yet: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String body(String url) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(url)).build());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return r.body();
    }

    private static JsonNode get(String url) {
        try {
            return JSON.readTree(send(HttpRequest.newBuilder(URI.create(url)).build()).body());
        } catch (IOException e) {
            throw new IllegalStateException(url + ": not JSON: " + e, e);
        }
    }
}
