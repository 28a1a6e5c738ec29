package io.gpuagent.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.OneLine;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@code gpu-agent check [--npd] [--url <agent base URL>] [--timeout <seconds>]}: asks the running agent's
 * {@code /health} and says what it found in one line of at most 80 characters, with node-problem-detector's
 * custom-plugin exit codes: 0 OK, 1 a problem (the agent answered 503 with its reason), 2 unknown (no agent, no
 * answer in time, an answer that is not the agent's). No NVML of its own. The agent's address comes from the same
 * settings the agent reads (-D flags, environment, {@code GPU_AGENT_CONFIG} or /etc/gpu-agent/agent.properties,
 * the packaged defaults): {@code quarkus.http.port} on loopback, or with {@code quarkus.http.insecure-requests}
 * disabled (or redirect) HTTPS on {@code quarkus.http.ssl-port} at {@code gpu-agent.advertise-url}'s host, trusting
 * {@code gpu-agent.tls.trust-certificates}. {@code /health} needs no token.
 */
final class NodeCheck {

    static final int OK = 0;
    static final int PROBLEM = 1;
    static final int UNKNOWN = 2;
    /** node-problem-detector's default max_output_length. */
    static final int MAX_LINE = 80;
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(4);
    /** /health is a few KB at 64 GPUs; anything far larger is not the agent. */
    private static final int MAX_BODY = 4 << 20;

    private NodeCheck() {
    }

    /** Runs the check and prints its one line; returns the exit code. */
    static int run(String[] args, PrintStream out, Map<String, String> env, Properties system) {
        String url = null;
        Duration timeout = DEFAULT_TIMEOUT;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--npd" -> {
                    // the only output there is: one line and NPD's exit codes
                }
                case "--url" -> url = i + 1 < args.length ? args[++i] : null;
                case "--timeout" -> timeout = i + 1 < args.length && args[i + 1].matches("\\d{1,3}")
                        ? Duration.ofSeconds(Integer.parseInt(args[++i])) : null;
                default -> url = "";
            }
            if (url != null && url.isEmpty() || timeout == null || timeout.isZero()) {
                out.println(line("usage: gpu-agent check [--npd] [--url http://host:9400] [--timeout 1-999 s]"));
                return UNKNOWN;
            }
        }
        Target target;
        try {
            target = url != null ? new Target(URI.create(url.replaceAll("/+$", "") + "/health"), List.of())
                    : Target.of(Settings.load(env, system));
        } catch (IllegalArgumentException | IOException e) {
            out.println(line("UNKNOWN: cannot tell where the agent listens: " + e.getMessage()));
            return UNKNOWN;
        }
        Verdict verdict = ask(target, timeout);
        out.println(line(verdict.line()));
        return verdict.exit();
    }

    /** What the agent said, as an exit code and a line. */
    record Verdict(int exit, String line) {
    }

    static Verdict ask(Target target, Duration timeout) {
        HttpResponse<InputStream> response;
        byte[] body;
        try (HttpClient client = target.client(timeout)) {
            HttpRequest request = HttpRequest.newBuilder(target.health()).timeout(timeout)
                    .header("Accept", "application/json").GET().build();
            response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = response.body()) {
                body = in.readNBytes(MAX_BODY + 1);
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            return new Verdict(UNKNOWN, "UNKNOWN: no agent at " + target.health().getAuthority() + ": " + describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Verdict(UNKNOWN, "UNKNOWN: interrupted");
        }
        int code = response.statusCode();
        JsonNode health;
        try {
            health = body.length > MAX_BODY ? null : new ObjectMapper().readTree(body);
        } catch (IOException e) {
            health = null;
        }
        if (health == null || !health.path("healthy").isBoolean() || (code != 200 && code != 503)
                || health.path("healthy").asBoolean() != (code == 200)) {
            return new Verdict(UNKNOWN, "UNKNOWN: " + target.health().getAuthority() + " answered " + code
                    + ", not the agent's health");
        }
        int gpus = health.path("nvml").path("gpus").asInt(0);
        String status = health.path("status").asText("");
        String reason = health.path("reason").isTextual() ? health.path("reason").asText() : "";
        if (code == 200) {
            return new Verdict(OK, "OK: " + gpus + " GPU" + (gpus == 1 ? "" : "s") + " " + status
                    + (reason.isEmpty() ? "" : ": " + reason));
        }
        return new Verdict(PROBLEM, reason.isEmpty() ? "PROBLEM: node " + status : reason);
    }

    private static String describe(Throwable e) {
        if (e instanceof java.net.ConnectException) {
            return "connection refused";
        }
        if (e instanceof java.net.http.HttpTimeoutException) {
            return "no answer in time";
        }
        String message = e.getMessage();
        while (message == null && e.getCause() != null) {
            e = e.getCause();
            message = e.getMessage();
        }
        return message == null ? e.getClass().getSimpleName() : message;
    }

    /** One line of at most {@link #MAX_LINE} characters (code points), cut with "..." where longer. */
    static String line(String text) {
        String whole = OneLine.of(text, 1 << 20);
        return whole.codePointCount(0, whole.length()) <= MAX_LINE ? whole : OneLine.of(text, MAX_LINE - 3);
    }

    /** Where {@code /health} is, and which CA certificates to trust for HTTPS (none: the JVM's). */
    record Target(URI health, List<Path> trust) {

        static Target of(Settings s) {
            String insecure = s.get("quarkus.http.insecure-requests", "enabled").toLowerCase(Locale.ROOT);
            boolean https = insecure.equals("disabled") || insecure.equals("redirect");
            String host = s.get("quarkus.http.host", "");
            if (host.isEmpty() || host.equals("::") || host.equals("[::]") || host.equals("0.0.0.0")) {
                host = "127.0.0.1";
            }
            String advertised = s.get("gpu-agent.advertise-url", "");
            if (https && !advertised.isEmpty()) {
                host = URI.create(advertised).getHost();
            }
            if (host.contains(":") && !host.startsWith("[")) {
                host = "[" + host + "]";
            }
            String port = https ? s.get("quarkus.http.ssl-port", "8443") : s.get("quarkus.http.port", "8080");
            if (!port.matches("\\d{1,5}")) {
                throw new IllegalArgumentException((https ? "quarkus.http.ssl-port" : "quarkus.http.port") + "='" + port
                        + "' is not a port");
            }
            List<Path> trust = new ArrayList<>();
            for (String file : s.get("gpu-agent.tls.trust-certificates", "").split(",")) {
                if (!file.isBlank()) {
                    trust.add(Path.of(file.strip()));
                }
            }
            return new Target(URI.create((https ? "https://" : "http://") + host + ":" + port + "/health"), List.copyOf(trust));
        }

        HttpClient client(Duration timeout) throws IOException, GeneralSecurityException {
            HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(timeout)
                    .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1);
            if (!trust.isEmpty()) {
                KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                CertificateFactory x509 = CertificateFactory.getInstance("X.509");
                int n = 0;
                for (Path file : trust) {
                    try (InputStream in = Files.newInputStream(file)) {
                        for (Certificate c : x509.generateCertificates(in)) {
                            store.setCertificateEntry("ca-" + n++, c);
                        }
                    }
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(store);
                SSLContext ssl = SSLContext.getInstance("TLS");
                ssl.init(null, tmf.getTrustManagers(), null);
                b.sslContext(ssl);
            }
            return b.build();
        }
    }

    /**
     * The agent's settings as it reads them, highest first: -D flags, environment variables (quarkus.http.port as
     * QUARKUS_HTTP_PORT), the host's file, the packaged application.properties (its un-profiled keys).
     */
    record Settings(Map<String, String> env, Properties system, Properties host, Properties packaged) {

        static Settings load(Map<String, String> env, Properties system) throws IOException {
            Properties packaged = new Properties();
            try (InputStream in = NodeCheck.class.getClassLoader().getResourceAsStream("application.properties")) {
                if (in != null) {
                    packaged.load(in);
                }
            }
            Properties host = new Properties();
            Path file = Path.of(env.getOrDefault("GPU_AGENT_CONFIG", "/etc/gpu-agent/agent.properties"));
            if (Files.exists(file)) {
                try (InputStream in = Files.newInputStream(file)) {
                    host.load(in);
                } catch (IOException e) {
                    throw new IOException("cannot read " + file + " (" + e.getMessage() + "); run the check as a user"
                            + " that can, or give --url", e);
                }
            }
            return new Settings(env, system, host, packaged);
        }

        String get(String key, String fallback) {
            String v = system.getProperty(key);
            if (v == null) {
                v = env.get(key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_"));
            }
            if (v == null) {
                v = host.getProperty(key);
            }
            if (v == null) {
                v = packaged.getProperty(key);
            }
            return v == null ? fallback : v.strip();
        }
    }
}
