package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.gpuagent.agent.PackagedAgent;
import io.gpuagent.agent.slurm.SlurmScripts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Issue 19, "the port is ours". While the agent is stopped, any local user can listen on its port: before, the
 * prolog sent the scheduler token to such a squatter, and the health check believed its 200 and resumed a node
 * drained for an XID. Now the agent holds its port on every address while it runs (dual-stack), and the Slurm
 * scripts talk only to a listener owned by the agent's user, or over the agent's unix socket.
 */
class FaultInjectionPortSquatterIT {

    static final String CASE = "port squatter";
    static final String SCHEDULER = "squat-scheduler-" + System.nanoTime();
    static final String ME = System.getProperty("user.name");

    /** What a squatter was sent: the request line, the Authorization header (or ""), the body. */
    record Received(String request, String authorization, String body) {
    }

    @Test
    void whileTheAgentRunsNoOtherSocketCanTakeItsPortOnAnyAddress() throws Exception {
        if (!Files.exists(Path.of("/proc/net/if_inet6"))) {
            FaultReport.skipped(CASE, "this host has no IPv6: the agent binds 0.0.0.0 (covered below)");
            Assumptions.abort("no IPv6 here");
        }
        try (PackagedAgent agent = PackagedAgent.named("fault-squat-dual").listenAsShipped().start()) {
            agent.awaitScrape();
            assertTrue(agent.log().contains("Listening on: http://:::" + agent.port()), "dual-stack [::]: " + agent.log());
            Path bind = Path.of("src/test/resources/faults/Bind.java").toAbsolutePath();
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), bind.toString(),
                    String.valueOf(agent.port())).redirectErrorStream(true).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "Bind.java did not finish");
            List<String> tries = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            assertEquals(8, tries.size(), tries.toString());
            long bound = tries.stream().filter(l -> l.endsWith(" BOUND")).count();
            assertTrue(FaultReport.row(CASE, "another process binds [::], [::1], 0.0.0.0 or 127.0.0.1 on the agent's port, "
                    + "with and without SO_REUSEADDR/SO_REUSEPORT: " + bound + " of 8", "0", bound == 0), tries.toString());
            assertEquals(200, agent.status("/health"), "the agent still answers");
        }
    }

    @Test
    void onAHostWithoutIpv6TheAgentListensOnTheIpv4Wildcard() throws Exception {
        // java.net.preferIPv4Stack: Java has no IPv6 sockets, as on a host booted with ipv6.disable=1.
        try (PackagedAgent agent = PackagedAgent.named("fault-squat-v4").listenAsShipped()
                .jvmOption("-Djava.net.preferIPv4Stack=true").start()) {
            agent.awaitScrape();
            assertTrue(agent.log().contains("Listening on: http://0.0.0.0:" + agent.port()), agent.log());
        }
    }

    @Test
    void aSquatterGetsNoTokenAndCannotResumeADrainedNode() throws Exception {
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target", "it-agents").toAbsolutePath()), "squatter-");
        Path token = PackagedAgent.writeCredential(dir.resolve("scheduler-token"), SCHEDULER);
        List<Received> received = new CopyOnWriteArrayList<>();
        HttpServer squatter = HttpServer.create(new InetSocketAddress("::", 0), 16);
        squatter.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            received.add(new Received(exchange.getRequestMethod() + " " + exchange.getRequestURI(),
                    String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")), new String(body, StandardCharsets.UTF_8)));
            byte[] answer = ("{\"healthy\":true,\"status\":\"healthy\",\"reason\":null,\"problems\":[],\"gpus\":[],"
                    + "\"index\":0,\"uuid\":\"GPU-squat\",\"leaseId\":\"L-squat\"}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(exchange.getRequestMethod().equals("POST") ? 201 : 200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        squatter.start();
        int port = squatter.getAddress().getPort();
        String xid = "gpu-agent: GPU 3 (GPU-x) UNHEALTHY: XID 79 (GPU has fallen off the bus), classed lost";
        try {
            Scripts scripts = new Scripts(dir, token);
            // The squatter is not the agent's user (here: the agent runs as nobody; the squatter is us).
            for (String url : List.of("http://127.0.0.1:" + port, "http://[::1]:" + port, "http://localhost:" + port)) {
                scripts.nodeShows("NodeName=node7 State=IDLE+DRAIN\n   Reason=" + xid + " [root@2026-12-07T10:00:00]\n");
                Map<String, String> env = Map.of("GPU_AGENT_URL", url, "GPU_AGENT_USER", "nobody");
                SlurmScripts.Run health = scripts.run("gpu-agent-healthcheck", env);
                assertEquals(1, health.exit(), health.err());
                assertTrue(health.err().contains("not the agent's user nobody"), health.err());
                List<String> calls = scripts.takeCalls();
                assertFalse(calls.stream().anyMatch(c -> c.contains("RESUME")), "resumed by a squatter's 200 at " + url + ": " + calls);
                SlurmScripts.Run prolog = scripts.run("gpu-agent-prolog", with(env, "SLURM_JOB_ID", "7", "SLURM_JOB_GPUS", "0"));
                assertEquals(1, prolog.exit(), prolog.err());
                assertTrue(prolog.err().contains("sent nothing"), prolog.err());
                SlurmScripts.Run epilog = scripts.run("gpu-agent-epilog", with(env, "SLURM_JOB_ID", "7"));
                assertEquals(1, epilog.exit(), epilog.err());
            }
            long tokens = received.stream().filter(r -> r.authorization().contains(SCHEDULER) || r.body().contains(SCHEDULER)).count();
            FaultReport.row(CASE, "requests a squatter on [::]:port got from health check, prolog and epilog (3 URLs each): "
                    + received.size() + ", with the token: " + tokens, "0", received.isEmpty());
            assertEquals(List.of(), received, "the squatter was sent something");

            // The same squatter, were it the agent's user, is sent the token: what the check above is what stops.
            SlurmScripts.Run believed = scripts.run("gpu-agent-prolog", Map.of("GPU_AGENT_URL", "http://127.0.0.1:" + port,
                    "GPU_AGENT_USER", ME, "SLURM_JOB_ID", "8", "SLURM_JOB_GPUS", "0"));
            assertEquals(0, believed.exit(), believed.err());
            assertTrue(received.stream().anyMatch(r -> r.authorization().equals("Bearer " + SCHEDULER)), received.toString());
        } finally {
            squatter.stop(0);
        }

        // A unix socket in the agent's place that is not the agent's user's: refused, nothing sent.
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-x---"));
        Path sock = run.resolve("http.sock");
        try (ServerSocketChannel unix = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            unix.bind(UnixDomainSocketAddress.of(sock));
            unix.configureBlocking(false);
            Scripts scripts = new Scripts(dir, token);
            scripts.nodeShows("NodeName=node7 State=IDLE+DRAIN\n   Reason=" + xid + " [root@2026-12-07T10:00:00]\n");
            SlurmScripts.Run health = scripts.run("gpu-agent-healthcheck", Map.of("GPU_AGENT_SOCKET", sock.toString(), "GPU_AGENT_USER", "nobody"));
            assertEquals(1, health.exit(), health.err());
            // (As root the directory passes and the socket's owner is refused; as another user, the directory.)
            assertTrue(health.err().contains("; not using"), health.err());
            assertFalse(scripts.takeCalls().stream().anyMatch(c -> c.contains("RESUME")));
            SlurmScripts.Run prolog = scripts.run("gpu-agent-prolog", Map.of("GPU_AGENT_SOCKET", sock.toString(), "GPU_AGENT_USER", "nobody",
                    "SLURM_JOB_ID", "9", "SLURM_JOB_GPUS", "0"));
            assertEquals(1, prolog.exit(), prolog.err());
            boolean connected = unix.accept() != null;
            FaultReport.row(CASE, "connections to a unix socket not owned by the agent's user: " + (connected ? "some" : "0"), "0", !connected);
            assertFalse(connected, "the scripts connected to a foreign unix socket");
        }
    }

    @Test
    void theScriptsTalkToTheAgentOverItsUnixSocket() throws Exception {
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target", "it-agents").toAbsolutePath()), "unix-");
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-x---"));
        Path sock = run.resolve("http.sock");
        Path token = PackagedAgent.writeCredential(dir.resolve("scheduler-token"), SCHEDULER);
        try (PackagedAgent agent = PackagedAgent.named("fault-squat-unix")
                .property("gpu-agent.auth.scheduler-token-file", token)
                .property("quarkus.http.domain-socket-enabled", "true")
                .property("quarkus.http.domain-socket", sock)
                .start()) {
            agent.awaitScrape();
            // A first scrape comes before the first judgement: GPUs still INITIALIZING cannot be leased.
            agent.await(Duration.ofSeconds(30), () -> {
                for (int gpu = 0; gpu <= 1; gpu++) {
                    assertTrue(agent.body("/health/gpus/" + gpu).contains("\"state\":\"HEALTHY\""), "GPU " + gpu);
                }
            });
            assertTrue(Files.exists(sock), "no socket; log: " + agent.log());
            Scripts scripts = new Scripts(dir, token);
            Map<String, String> env = Map.of("GPU_AGENT_SOCKET", sock.toString(), "GPU_AGENT_USER", ME);
            SlurmScripts.Run health = scripts.run("gpu-agent-healthcheck", env);
            assertEquals(0, health.exit(), health.err());
            SlurmScripts.Run prolog = scripts.run("gpu-agent-prolog", with(env, "SLURM_JOB_ID", "21", "SLURM_JOB_GPUS", "0,1"));
            assertEquals(0, prolog.exit(), prolog.err());
            assertTrue(agent.body("/v1/leases").contains("\"slurm-21\""), agent.body("/v1/leases"));
            SlurmScripts.Run epilog = scripts.run("gpu-agent-epilog", with(env, "SLURM_JOB_ID", "21"));
            assertEquals(0, epilog.exit(), epilog.err());
            assertFalse(agent.body("/v1/leases").contains("\"slurm-21\""), agent.body("/v1/leases"));
        }
    }

    private static Map<String, String> with(Map<String, String> env, String... more) {
        Map<String, String> out = new HashMap<>(env);
        for (int i = 0; i < more.length; i += 2) {
            out.put(more[i], more[i + 1]);
        }
        return out;
    }

    /** The shipped scripts with a stub scontrol on the PATH that records its calls, as slurmd runs them on node7. */
    static final class Scripts {
        final Path dir;
        final Path token;
        final Path calls;
        final Path show;

        Scripts(Path dir, Path token) throws IOException {
            this.dir = dir;
            this.token = token;
            this.calls = dir.resolve("scontrol.calls");
            this.show = dir.resolve("scontrol.show");
            SlurmScripts.stubScontrol(dir, calls, show);
        }

        void nodeShows(String text) throws IOException {
            Files.writeString(show, text);
        }

        List<String> takeCalls() throws IOException {
            List<String> out = Files.exists(calls) ? new ArrayList<>(Files.readAllLines(calls)) : List.of();
            Files.deleteIfExists(calls);
            return out;
        }

        SlurmScripts.Run run(String script, Map<String, String> env) {
            ProcessBuilder pb = new ProcessBuilder(SlurmScripts.SCRIPTS.resolve(script).toString());
            pb.environment().clear();
            pb.environment().put("PATH", dir.resolve("bin") + ":/usr/sbin:/usr/bin:/sbin:/bin");
            pb.environment().put("SLURMD_NODENAME", "node7");
            pb.environment().put("GPU_AGENT_SLURM_ENV", dir.resolve("no-such-settings").toString());
            pb.environment().put("GPU_AGENT_TOKEN_FILE", token.toString());
            pb.environment().put("GPU_AGENT_SLURM_STATE", dir.resolve("state").toString());
            pb.environment().put("GPU_AGENT_TIMEOUT", "5");
            pb.environment().putAll(env);
            return SlurmScripts.start(dir, script, pb);
        }
    }
}
