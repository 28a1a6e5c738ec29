package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.PackagedAgent;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Direct memory running out ends the process, as heap memory running out does, so that systemd restarts it. The
 * packaged agent runs with {@code -XX:MaxDirectMemorySize=256k} (far below the shipped size), its history is
 * filled, and a client asks for the largest page of {@code /v1/events} (some 0.3 MB): Netty copies an answer into a
 * direct buffer to write it, and the JDK refuses it ("Cannot reserve ... direct buffer memory"). That error is
 * thrown by Java code and caught by Netty, so {@code -XX:+ExitOnOutOfMemoryError} never sees it; before, the agent
 * logged it and went on. Now it logs one line and exits with status 3.
 */
class FaultInjectionDirectMemoryIT {

    static final String CASE = "direct memory exhausted";
    static final String OPERATOR = "direct-memory-operator-" + System.nanoTime();

    @Test
    void outOfDirectMemoryEndsTheProcess() throws Exception {
        Path token = PackagedAgent.writeCredential(Path.of("target", "it-agents").toAbsolutePath()
                .resolve("direct-memory-operator-" + System.nanoTime()), OPERATOR);
        try (PackagedAgent agent = PackagedAgent.named("fault-direct-memory").jvmOption("-XX:MaxDirectMemorySize=256k")
                .property("gpu-agent.auth.operator-token-file", token).start()) {
            agent.awaitScrape();
            int events = FaultInjectionSlowReadersIT.fillByCordons(agent, OPERATOR, 2_000);
            long t0 = System.nanoTime();
            try (SlowReaders readers = new SlowReaders()) {
                readers.add(1, "127.0.0.2", agent.port(), SlowReaders.get("/v1/events?limit=1000"));
                int status = agent.waitForExit(Duration.ofSeconds(30));
                double seconds = (System.nanoTime() - t0) / 1e9;
                String log = agent.log();
                boolean exited = FaultReport.row(CASE, "a 1,000-event page (" + events + " events in history) asked "
                        + "for at -XX:MaxDirectMemorySize=256k: exit status " + status + " after " + String.format("%.1f s", seconds)
                        + ", the log says why first", "exits with 3, log line", status == 3
                        && log.contains("out of memory"));
                assertTrue(exited, "exit status " + status + "; log:\n" + log);
                assertEquals(3, status);
            }
        }
    }
}
