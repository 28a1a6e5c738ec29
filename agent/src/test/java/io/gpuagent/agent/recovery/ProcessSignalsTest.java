package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Terminating processes with real child processes: SIGTERM, SIGKILL after the grace, and the refusals. */
class ProcessSignalsTest {

    private final ProcessSignals signals = new ProcessSignals();

    @Test
    void inAPidNamespaceOfItsOwnTheAgentSignalsNothing() {
        assertTrue(ProcessSignals.namespaceRefusal("Name:\tjava\nNSpid:\t4242\n").isEmpty(), "host namespace");
        String nested = ProcessSignals.namespaceRefusal("Name:\tjava\nNSpid:\t4242\t7\nNSpgid:\t1\n").orElseThrow();
        assertTrue(nested.contains("--pid=host"), nested);
        assertTrue(ProcessSignals.namespaceRefusal("Name:\tjava\n").isEmpty(), "kernels before 4.1 have no NSpid");
    }

    @Test
    void neverInitNeverTheAgentNeverAPidNvmlDoesNotList() throws Exception {
        long self = ProcessHandle.current().pid();
        Process other = new ProcessBuilder("sleep", "300").start();
        try {
            assertTrue(ProcessSignals.refusal(1, Set.of(1L)).orElseThrow().contains("init"));
            assertTrue(ProcessSignals.refusal(self, Set.of(self)).orElseThrow().contains("agent itself"));
            assertTrue(ProcessSignals.refusal(other.pid(), Set.of(4242L)).orElseThrow().contains("not on this GPU"));
            List<ProcessSignals.Outcome> out = signals.terminate(Set.of(1L, self, other.pid()), Set.of(1L, self),
                    Duration.ofMillis(100));
            assertEquals(3, out.size());
            assertTrue(out.stream().noneMatch(ProcessSignals.Outcome::gone), out.toString());
            assertTrue(other.isAlive(), "a PID NVML does not list is left alone");
        } finally {
            other.destroyForcibly();
        }
    }

    @Test
    void sigtermFirstThenSigkillForAProcessThatIgnoresIt() throws Exception {
        Process polite = new ProcessBuilder("sleep", "300").start();
        Process stubborn = new ProcessBuilder("sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done").start();
        try {
            assertEquals("ready", new String(stubborn.getInputStream().readNBytes(5)));
            Set<Long> pids = Set.of(polite.pid(), stubborn.pid());
            List<ProcessSignals.Outcome> out = signals.terminate(pids, pids, Duration.ofMillis(500));
            assertTrue(out.stream().allMatch(ProcessSignals.Outcome::gone), out.toString());
            String text = out.toString();
            assertTrue(text.contains("PID " + polite.pid() + " exited after SIGTERM"), text);
            assertTrue(text.contains("PID " + stubborn.pid() + " killed with SIGKILL"), text);
            assertTrue(polite.waitFor(5, TimeUnit.SECONDS) && stubborn.waitFor(5, TimeUnit.SECONDS));
            assertFalse(polite.isAlive() || stubborn.isAlive());
        } finally {
            polite.destroyForcibly();
            stubborn.destroyForcibly();
        }
    }
}
