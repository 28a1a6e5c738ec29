package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.PackagedAgent;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Direct memory running out ends the process, as heap memory running out does, so that systemd restarts it. The
 * packaged agent (Netty's epoll transport, as shipped) runs with {@code -XX:MaxDirectMemorySize=256k}, far below
 * the shipped 32 MB and just above what it holds after start (about 240 KB), and is asked for {@code /metrics}:
 * the answer's direct buffer does not fit and the JDK refuses it ("Cannot reserve ... direct buffer memory").
 * That error is thrown by Java code and caught by the libraries, so {@code -XX:+ExitOnOutOfMemoryError} never sees
 * it; before issue 19 the agent logged it and went on. Now it logs one line and exits with status 3.
 *
 * <p>Not covered here, and known: at 512k, with the history filled by keep-alive clients, some connections were
 * closed without an answer and without the exit (an allocation inside Netty's own read or write path whose error
 * Vert.x swallows). Under systemd the watchdog's self-probe needs the same buffers and stops, so the agent is
 * restarted within {@code WatchdogSec}; docs/security.md ("Connections and memory") says so.
 */
class FaultInjectionDirectMemoryIT {

    static final String CASE = "direct memory exhausted";

    @Test
    void outOfDirectMemoryEndsTheProcess() throws Exception {
        try (PackagedAgent agent = PackagedAgent.named("fault-direct-memory").jvmOption("-XX:MaxDirectMemorySize=256k")
                .start()) {
            long t0 = System.nanoTime();
            long deadline = t0 + PackagedAgent.START.toNanos();
            int scrapes = 0;
            while (agent.isAlive() && System.nanoTime() < deadline) {
                if (agent.trySend("GET", "/metrics", null, null) != null) {
                    scrapes++;
                }
                Thread.sleep(50);
            }
            int status = agent.waitForExit(Duration.ofSeconds(30));
            double seconds = (System.nanoTime() - t0) / 1e9;
            String log = agent.log();
            boolean exited = FaultReport.row(CASE, "/metrics asked for at -XX:MaxDirectMemorySize=256k: exit status "
                    + status + " " + String.format("%.1f s", seconds) + " after launch (" + scrapes + " answers before), "
                    + "the log says why first", "exits with 3, log line", status == 3 && log.contains("out of memory"));
            assertTrue(exited, "exit status " + status + "; log:\n" + log);
            assertEquals(3, status);
        }
    }
}
