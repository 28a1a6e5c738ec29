package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged agent ({@code target/quarkus-app}) as its own process, for the process-level ITs. It starts as
 * the product starts it: the JVM options of {@code systemd/environment}, {@code -XX:+ExitOnOutOfMemoryError}
 * as the launcher adds, native access; on a free loopback port, with its own directory (state dir, scenario
 * file, one log per run) and the fake driver reading that directory's scenario file, strict.
 *
 * <p>{@link #restart} starts it again on the same state directory (on a new port: a pooled connection to the
 * old one must never be what a request waits on). {@link #close} kills whatever still runs; use it in
 * try-with-resources. Waits are on conditions (a good scrape, a log line), and give up at once with the log
 * when the process has exited.
 */
public final class PackagedAgent implements AutoCloseable {

    public static final Path JAR = Path.of(System.getProperty("quarkus-app.jar", "target/quarkus-app/quarkus-run.jar"));
    /** Where the package's JVM options come from: {@code JAVA_OPTS} there. */
    public static final Path SHIPPED_ENVIRONMENT = Path.of("../systemd/environment");
    /** How long a start may take on a loaded 2-core CI machine with several JVMs. */
    public static final Duration START = Duration.ofSeconds(90);

    private static final Pattern GPU_LABEL = Pattern.compile("[{,]gpu=\"(\\d+)\"");
    private static final Pattern JAVA_OPTS = Pattern.compile("(?m)^JAVA_OPTS=\"([^\"]*)\"");

    private final Options options;
    private final Path dir;
    private final Path stateDir;
    private final Path scenarioFile;
    private Process process;
    private int port;
    private int run;
    private Path log;
    private HttpClient http;

    private PackagedAgent(Options options) throws IOException {
        this.options = options;
        Path base = Files.createDirectories(Path.of("target", "it-agents").toAbsolutePath());
        this.dir = options.dir != null ? Files.createDirectories(options.dir.toAbsolutePath())
                : Files.createTempDirectory(base, options.name + "-");
        this.stateDir = options.stateDir != null ? options.stateDir.toAbsolutePath() : dir.resolve("state");
        this.scenarioFile = dir.resolve("scenario.conf");
        scenario(options.scenario);
    }

    /** Options for an agent called {@code name} (its directory and log files carry the name). */
    public static Options named(String name) {
        return new Options(name);
    }

    /** What to start: everything but the port, which is chosen at each start. */
    public static final class Options {
        private final String name;
        private Path dir;
        private Path stateDir;
        private String scenario = "gpus = 8\n";
        private String library = FakeNvml.LIBRARY.toAbsolutePath().toString();
        private final Map<String, String> properties = new LinkedHashMap<>();
        private final List<String> jvmOptions = new ArrayList<>();
        private final Map<String, String> environment = new LinkedHashMap<>();
        private boolean loopbackOnly = true;
        private final List<String> launcher = new ArrayList<>();

        private Options(String name) {
            this.name = name;
        }

        /** The agent's directory (default: a fresh one under {@code target/it-agents}). */
        public Options dir(Path dir) {
            this.dir = dir;
            return this;
        }

        /** {@code gpu-agent.state-dir} (default: {@code state} in the agent's directory). */
        public Options stateDir(Path stateDir) {
            this.stateDir = stateDir;
            return this;
        }

        /** The scenario file's first content (default: 8 idle GPUs). */
        public Options scenario(String text) {
            this.scenario = text;
            return this;
        }

        /** {@code gpu-agent.nvml.library} (default: the fake driver). */
        public Options library(Path library) {
            this.library = library.toAbsolutePath().toString();
            return this;
        }

        /** No NVML library where the agent looks (a coordinator, a host without a driver). */
        public Options noDriver() {
            this.library = null;
            return this;
        }

        /**
         * A {@code -D} property; {@code {port}} in the value is replaced by this run's port. A {@link Path} is made
         * absolute: the agent runs in its own directory.
         */
        public Options property(String key, Object value) {
            properties.put(key, String.valueOf(value instanceof Path p ? p.toAbsolutePath() : value));
            return this;
        }

        /** A JVM option beyond the shipped ones. */
        public Options jvmOption(String option) {
            jvmOptions.add(option);
            return this;
        }

        /** Leaves {@code quarkus.http.host} to the agent (the package's choice) instead of 127.0.0.1. */
        public Options listenAsShipped() {
            this.loopbackOnly = false;
            return this;
        }

        /**
         * Words before {@code java} on the command line, a program that ends by exec'ing the rest in its own
         * process (so {@link #pid} is still the agent's), e.g. {@code systemd-run --scope -p TasksMax=256 --}.
         */
        public Options launcher(List<String> words) {
            launcher.addAll(words);
            return this;
        }

        /** An environment variable of the agent's process. */
        public Options env(String key, String value) {
            environment.put(key, value);
            return this;
        }

        /** Starts the agent; returns at once (wait with {@link #awaitScrape} or {@link #awaitLog}). */
        public PackagedAgent start() throws IOException {
            PackagedAgent agent = new PackagedAgent(this);
            agent.launch();
            return agent;
        }
    }

    private void launch() throws IOException {
        assertTrue(Files.isRegularFile(JAR), "not packaged: " + JAR);
        run++;
        port = freePort();
        log = dir.resolve("agent-" + run + ".log");
        if (http != null) {
            http.shutdownNow();   // its connections were to the previous run
        }
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        List<String> cmd = new ArrayList<>(options.launcher);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(shippedJvmOptions());
        cmd.addAll(List.of("-XX:+ExitOnOutOfMemoryError", "-XX:ErrorFile=" + dir.resolve("hs_err_pid%p.log"),
                "-XX:-CreateCoredumpOnCrash", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(options.jvmOptions);
        Map<String, String> props = new LinkedHashMap<>();
        props.put("gpu-agent.nvml.library", options.library != null ? options.library
                : dir.resolve("no-such-libnvidia-ml.so.1").toString());
        props.put("gpu-agent.state-dir", stateDir.toString());
        props.put("quarkus.http.port", String.valueOf(port));
        if (options.loopbackOnly) {
            props.put("quarkus.http.host", "127.0.0.1");
        }
        props.putAll(options.properties);
        props.forEach((k, v) -> cmd.add("-D" + k + "=" + v.replace("{port}", String.valueOf(port))));
        cmd.addAll(List.of("-jar", JAR.toAbsolutePath().toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("FAKE_NVML_SCENARIO", scenarioFile.toString());
        pb.environment().put("FAKE_NVML_STRICT", "1");
        pb.environment().put("GPU_AGENT_CONFIG", "/dev/null");   // never the host's /etc/gpu-agent/agent.properties
        pb.environment().putAll(options.environment);
        process = pb.start();
    }

    /** {@code JAVA_OPTS} of {@code systemd/environment}: what the package runs the agent with. */
    public static List<String> shippedJvmOptions() {
        try {
            Matcher m = JAVA_OPTS.matcher(Files.readString(SHIPPED_ENVIRONMENT));
            assertTrue(m.find(), "no JAVA_OPTS=\"...\" in " + SHIPPED_ENVIRONMENT);
            return Arrays.stream(m.group(1).trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a 0600 credential file in the agent's directory (the agent refuses looser ones). */
    public Path credential(String fileName, String token) {
        return writeCredential(dir.resolve(fileName), token);
    }

    /** Writes a 0600 credential file. */
    public static Path writeCredential(Path file, String token) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, token + "\n");
            return file.toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    public URI baseUri() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port + pathAndQuery);
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path dir() {
        return dir;
    }

    public Path stateDir() {
        return stateDir;
    }

    public Path scenarioFile() {
        return scenarioFile;
    }

    /** This run's log file. */
    public Path logFile() {
        return log;
    }

    /** This run's log so far. */
    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Resident memory of the agent's process now (VmRSS in /proc), in bytes. */
    public long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
            throw new AssertionError("no VmRSS in /proc/" + pid() + "/status");
        } catch (IOException e) {
            throw new AssertionError("agent " + pid() + " is gone: " + e, e);
        }
    }

    /** Replaces this agent's scenario atomically (the fake never reads half a file; it picks it up within ~20 ms). */
    public void scenario(String text) {
        try {
            Path tmp = Files.createTempFile(dir, "scenario", ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, scenarioFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Retries {@code assertion} until it passes; fails at once, with the log, if the agent has exited. */
    public void await(Duration timeout, Runnable assertion) {
        FakeNvml.eventually(timeout, () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("agent exited with " + process.exitValue() + " while waiting; log:\n" + log());
            }
            assertion.run();
        });
    }

    /**
     * Waits for a first good scrape: /metrics answers 200 with every GPU's temperature (a GPU in MIG mode has one
     * per GPU instance, so GPUs are counted by their {@code gpu} label).
     */
    public PackagedAgent awaitScrape() {
        int gpus = gpusInScenario();
        await(START, () -> {
            String metrics = body("/metrics");
            long temps = metrics.lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{"))
                    .map(l -> GPU_LABEL.matcher(l)).filter(Matcher::find).map(m -> m.group(1)).distinct().count();
            assertEquals(gpus, temps, "GPUs with a temperature in /metrics");
        });
        return this;
    }

    /** Waits until the agent watches every GPU for driver events (an event fired before is lost, as on a real driver). */
    public PackagedAgent awaitWatching() {
        int gpus = gpusInScenario();
        await(START, () -> assertTrue(body("/metrics").contains("gpu_agent_event_watch_gpus " + gpus + ".0\n"),
                "not watching all " + gpus + " GPUs yet"));
        return this;
    }

    /** Waits until this run's log contains {@code marker}. */
    public PackagedAgent awaitLog(String marker, Duration timeout) {
        await(timeout, () -> assertTrue(log().contains(marker), "no '" + marker + "' in the log yet"));
        return this;
    }

    private int gpusInScenario() {
        try {
            Matcher m = Pattern.compile("(?m)^\\s*gpus\\s*=\\s*(\\d+)").matcher(Files.readString(scenarioFile));
            return m.find() ? Integer.parseInt(m.group(1)) : 8;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** How many GPUs {@code /v1/inventory} says are leasable now. */
    public int leasableGpus() {
        try {
            int n = 0;
            for (com.fasterxml.jackson.databind.JsonNode g : new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(body("/v1/inventory")).path("gpus")) {
                n += g.path("leasable").asBoolean() ? 1 : 0;
            }
            return n;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** GET; the body, after checking the status is 200. */
    public String body(String path) {
        HttpResponse<String> r = send("GET", path, null, null);
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return r.body();
    }

    /** GET; the status. */
    public int status(String path) {
        return send("GET", path, null, null).statusCode();
    }

    /** GET; the response. */
    public HttpResponse<String> get(String path) {
        return send("GET", path, null, null);
    }

    /** A request with an optional bearer token and JSON body; an agent that does not answer is an AssertionError. */
    public HttpResponse<String> send(String method, String path, String token, String body) {
        HttpResponse<String> r = trySend(method, path, token, body);
        if (r == null) {
            throw new AssertionError("agent not answering " + method + " " + path + (process.isAlive() ? "" : " (exited)"));
        }
        return r;
    }

    /** As {@link #send}, but null when the agent did not answer (killed, not up yet). */
    public HttpResponse<String> trySend(String method, String path, String token, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** SIGKILL: no shutdown hooks, no flush; waits until the process is gone. */
    public void kill9() throws InterruptedException {
        process.toHandle().destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM, as systemctl stop; the exit code, or an AssertionError when still running after {@code timeout}. */
    public int terminate(Duration timeout) throws InterruptedException {
        process.destroy();
        return waitForExit(timeout);
    }

    /** Waits for the process to exit by itself; its exit code. */
    public int waitForExit(Duration timeout) throws InterruptedException {
        assertTrue(process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS),
                "agent still running " + timeout + " later; log:\n" + log());
        return process.exitValue();
    }

    /** Stops this run if it still runs (SIGTERM), then starts again on the same state directory, on a new port. */
    public PackagedAgent restart() throws IOException, InterruptedException {
        if (process.isAlive()) {
            terminate(Duration.ofSeconds(60));
        }
        launch();
        return this;
    }

    /** Stops the agent if it still runs: SIGTERM, and SIGKILL when it is not gone 15 s later. */
    @Override
    public void close() {
        if (http != null) {
            http.shutdownNow();
        }
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.toHandle().destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.toHandle().destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** A port free now on loopback. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
