package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.PackagedAgent;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Enforce mode as the package sets it up, with the privileged steps in gpu-agent-privileged (the agent holds no
 * CAP_SYS_ADMIN): the helper hangs mid-reset (accepts the request, never answers), then its socket is gone. The
 * reset ends {@code timed_out} at {@code command-timeout} with NVML taken back (the other GPUs are read again),
 * {@code /health} keeps answering meanwhile, and a reset with no helper is {@code rejected} with the fix at once,
 * never escalated; the same process throughout.
 */
class FaultInjectionPrivilegedHelperIT {

    static final String CASE = "privileged helper hangs, then is gone";
    static final String TOKEN = "it-token-" + System.nanoTime();
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(3);
    static final Duration LIMIT = Duration.ofSeconds(15);
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aHungHelperTimesOutAndAMissingOneIsRejectedWhileTheAgentServes() throws Exception {
        Path socket = Files.createDirectories(Path.of("target", "it-agents").toAbsolutePath())
                .resolve("privileged-" + ProcessHandle.current().pid() + ".sock");
        Files.deleteIfExists(socket);
        List<SocketChannel> held = new CopyOnWriteArrayList<>();
        Path token = PackagedAgent.writeCredential(Path.of("target", "it-agents", "privileged-helper-token"), TOKEN);
        try (ServerSocketChannel hung = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            hung.bind(UnixDomainSocketAddress.of(socket));
            Thread.ofVirtual().start(() -> {
                while (hung.isOpen()) {
                    try {
                        SocketChannel c = hung.accept();   // reads the request, never answers
                        c.read(ByteBuffer.allocate(256));
                        held.add(c);
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            try (PackagedAgent agent = PackagedAgent.named("privileged-helper").property("gpu-agent.auth.token-file", token)
                    .property("gpu-agent.recovery.mode", "enforce")
                    .property("gpu-agent.recovery.privileged-socket", socket)
                    .property("gpu-agent.recovery.command-timeout", COMMAND_TIMEOUT.toSeconds() + "s")
                    .property("gpu-agent.recovery.reset-limit", "5").start()) {
                // The start-up check ran (privilege-check is on) and found the socket: the agent serves.
                agent.awaitScrape();
                long pid = agent.pid();

                long t0 = System.nanoTime();
                String hungId = accepted(agent.send("POST", "/v1/gpus/3/reset?force=true", TOKEN, null));
                long worstHealthMs = 0;
                while (running(agent, hungId) && System.nanoTime() - t0 < LIMIT.toNanos()) {
                    long h0 = System.nanoTime();
                    assertEquals(200, agent.status("/health"));
                    worstHealthMs = Math.max(worstHealthMs, (System.nanoTime() - h0) / 1_000_000);
                    Thread.sleep(100);
                }
                long timedOutMs = (System.nanoTime() - t0) / 1_000_000;
                JsonNode reset = step(agent, 3, "reset");
                assertEquals("timed_out", reset.get("result").asText(), reset.toString());
                assertTrue(reset.get("detail").asText().contains("no answer from gpu-agent-privileged"), reset.toString());
                assertTrue(!held.isEmpty(), "the helper got the request");
                // NVML was taken back after the hung reset: a change on the other GPUs reaches /metrics.
                agent.scenario("gpus = 8\ngpu.*.temp = 63\n");
                long t1 = System.nanoTime();
                agent.await(LIMIT, () -> assertEquals(8, agent.body("/metrics").lines()
                        .filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{") && l.endsWith(" 63")).count()));
                long freshMs = (System.nanoTime() - t1) / 1_000_000;

                hung.close();
                Files.deleteIfExists(socket);
                long t2 = System.nanoTime();
                String goneId = accepted(agent.send("POST", "/v1/gpus/4/reset?force=true", TOKEN, null));
                agent.await(LIMIT, () -> assertTrue(!running(agent, goneId)));
                long rejectedMs = (System.nanoTime() - t2) / 1_000_000;
                JsonNode gone = step(agent, 4, "reset");
                assertEquals("rejected", gone.get("result").asText(), gone.toString());
                assertTrue(gone.get("detail").asText().contains("start gpu-agent-privileged.socket"), gone.toString());
                assertTrue(agent.isAlive() && agent.pid() == pid, "the agent stayed up");

                boolean met = FaultReport.row(CASE, "reset with a helper that never answers: timed_out " + timedOutMs
                        + " ms after the request (command-timeout " + COMMAND_TIMEOUT.toSeconds() + " s), /health worst "
                        + worstHealthMs + " ms meanwhile, all 8 GPUs read again " + freshMs + " ms after a change; helper "
                        + "gone: rejected with the fix " + rejectedMs + " ms after the request; same process",
                        "timed_out <= command-timeout + 5 s, /health 200 throughout, rejected <= 5 s",
                        timedOutMs <= COMMAND_TIMEOUT.toMillis() + 5_000 && rejectedMs <= 5_000);
                assertTrue(met);
            }
        } finally {
            for (SocketChannel c : held) {
                c.close();
            }
            Files.deleteIfExists(socket);
        }
    }

    private static String accepted(HttpResponse<String> r) throws IOException {
        assertEquals(202, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("actionId").asText();
    }

    private static boolean running(PackagedAgent agent, String actionId) {
        return agent.body("/v1/actions/" + actionId).contains("\"status\":\"running\"");
    }

    /** The newest audit line of {@code step} on {@code gpu} that ended it. */
    private static JsonNode step(PackagedAgent agent, int gpu, String step) throws IOException {
        JsonNode newest = null;
        for (JsonNode a : JSON.readTree(agent.body("/v1/actions?gpu=" + gpu + "&limit=100")).get("actions")) {
            if (step.equals(a.get("step").asText()) && !"started".equals(a.get("result").asText())
                    && (newest == null || a.get("id").asLong() > newest.get("id").asLong())) {
                newest = a;
            }
        }
        assertTrue(newest != null, "no finished " + step + " line for GPU " + gpu);
        return newest;
    }
}
