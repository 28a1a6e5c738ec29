package io.gpuagent.agent.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The notify protocol's datagrams arrive, on a path socket and an abstract one, and errors name the cause. */
class NotifySocketTest {

    @Test
    void aMessageArrivesWholeOnAPathSocket() throws Throwable {
        Path dir = Files.createTempDirectory("notify");
        try (NotifyListener systemd = new NotifyListener(dir.resolve("notify").toString());
             NotifySocket agent = new NotifySocket(systemd.address())) {
            agent.send("READY=1\nSTATUS=8 GPUs, all healthy, observe mode");
            NotifyListener.Message m = systemd.next("READY=1", Duration.ofSeconds(5));
            assertNotNull(m, "no READY=1 arrived");
            assertEquals("READY=1\nSTATUS=8 GPUs, all healthy, observe mode", m.text());
        } finally {
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void anAbstractNameStartsWithAnAt() throws Throwable {
        String name = "@gpu-agent-test-" + UUID.randomUUID();
        try (NotifyListener systemd = new NotifyListener(name); NotifySocket agent = new NotifySocket(name)) {
            agent.send("WATCHDOG=1");
            assertNotNull(systemd.next("WATCHDOG=1", Duration.ofSeconds(5)), "no WATCHDOG=1 on " + name);
        }
    }

    @Test
    void sendingToNoListenerSaysSo() throws Exception {
        try (NotifySocket agent = new NotifySocket("/nonexistent/gpu-agent-notify")) {
            IOException e = assertThrows(IOException.class, () -> agent.send("READY=1"));
            assertTrue(e.getMessage().contains("ENOENT"), e.getMessage());
        }
    }

    @Test
    void aRelativeOrOverlongAddressIsRefused() {
        assertThrows(IOException.class, () -> new NotifySocket("relative/notify"));
        assertThrows(IOException.class, () -> new NotifySocket("/" + "x".repeat(120)));
    }
}
