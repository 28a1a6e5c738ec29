package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's client of gpu-agent-privileged against the real program behind a unix socket ({@link AcceptSocket}),
 * and against sockets that misbehave: each way a privileged step can end is the step result the rails expect
 * (rejected when nothing could have changed, so escalation never counts it), within the deadline.
 */
class PrivilegedSocketTest {

    static final String UUID = PrivilegedProgramTest.UUID;

    @TempDir
    Path dir;

    @Test
    void eachStepGoesThroughTheRealProgramAsOneRequest() throws Exception {
        Path smi = standIn(0, "All done.");
        try (AcceptSocket helper = AcceptSocket.start(dir.resolve("p.sock"), smi)) {
            PrivilegedSocket socket = new PrivilegedSocket(helper.path());
            StepOutcome reset = socket.reset(UUID, Duration.ofSeconds(20));
            assertEquals(Result.SUCCEEDED, reset.result(), reset.detail());
            assertTrue(reset.detail().contains("gpu-agent-privileged reset: ok (exit 0): All done."), reset.detail());
            socket.setPowerLimit(UUID, 560, Duration.ofSeconds(20));
            assertEquals("locked GPU clocks reset, locked memory clocks reset, application clocks reset",
                    socket.resetClocks(UUID, Duration.ofSeconds(20)));
            assertEquals(List.of("reset " + UUID, "set-power-limit " + UUID + " 560", "reset-clocks " + UUID), helper.requests());
            assertEquals(List.of("--gpu-reset -i " + UUID, "-i " + UUID + " -pl 560", "-i " + UUID + " -rgc", "-i " + UUID
                    + " -rmc", "-i " + UUID + " -rac"), Files.readAllLines(dir.resolve("ran")));
        }
    }

    @Test
    void nvidiaSmiWithoutPermissionIsRejectedAndOtherFailuresFail() throws Exception {
        try (AcceptSocket helper = AcceptSocket.start(dir.resolve("p.sock"), standIn(4, "Insufficient Permissions"))) {
            PrivilegedSocket socket = new PrivilegedSocket(helper.path());
            StepOutcome reset = socket.reset(UUID, Duration.ofSeconds(20));
            assertEquals(Result.REJECTED, reset.result(), reset.detail());
            assertTrue(reset.detail().contains("CAP_SYS_ADMIN"), reset.detail());
            var denied = assertThrows(NvmlWrites.NoPermission.class, () -> socket.setPowerLimit(UUID, 560, Duration.ofSeconds(20)));
            assertTrue(Privilege.deniedBy(denied).isPresent());
        }
        try (AcceptSocket helper = AcceptSocket.start(dir.resolve("q.sock"), standIn(1, "Unable to reset GPU: in use"))) {
            PrivilegedSocket socket = new PrivilegedSocket(helper.path());
            StepOutcome reset = socket.reset(UUID, Duration.ofSeconds(20));
            assertEquals(Result.FAILED, reset.result(), reset.detail());
            assertTrue(reset.detail().contains("failed (exit 1): Unable to reset GPU: in use"), reset.detail());
            assertThrows(IllegalStateException.class, () -> socket.setPowerLimit(UUID, 560, Duration.ofSeconds(20)));
        }
    }

    @Test
    void noSocketIsRejectedWithTheFixNotFailed() throws Exception {
        PrivilegedSocket socket = new PrivilegedSocket(dir.resolve("absent.sock"));
        StepOutcome reset = socket.reset(UUID, Duration.ofSeconds(5));
        assertEquals(Result.REJECTED, reset.result(), reset.detail());
        assertTrue(reset.detail().contains("gpu-agent-privileged.socket"), reset.detail());
        var e = assertThrows(PrivilegedSocket.Unreachable.class, () -> socket.resetClocks(UUID, Duration.ofSeconds(5)));
        assertTrue(Privilege.deniedBy(new RuntimeException(e)).isPresent(), "a step that could not reach the helper is rejected");
    }

    @Test
    void aHelperThatNeverAnswersTimesOutAtTheDeadline() throws Exception {
        Path path = dir.resolve("silent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            Thread.ofVirtual().start(() -> {
                try {
                    SocketChannel kept = server.accept();   // accepted, read, never answered
                    kept.read(ByteBuffer.allocate(256));
                } catch (IOException e) {
                    // closed at the end of the test
                }
            });
            StepOutcome reset = new PrivilegedSocket(path).reset(UUID, Duration.ofMillis(500));
            assertEquals(Result.TIMED_OUT, reset.result(), reset.detail());
            assertTrue(reset.detail().contains("no answer from gpu-agent-privileged"), reset.detail());
        }
    }

    @Test
    void anAnswerOutsideTheProtocolFailsTheStep() throws Exception {
        for (String answer : List.of("", "yes\n", "ok\n", "ok 0" + "x".repeat(2000) + "\n", "maybe 0 done\n")) {
            Path path = dir.resolve("odd" + answer.length() + ".sock");
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(path));
                Thread.ofVirtual().start(() -> {
                    try (SocketChannel c = server.accept()) {
                        c.read(ByteBuffer.allocate(256));
                        c.write(ByteBuffer.wrap(answer.getBytes(StandardCharsets.US_ASCII)));
                    } catch (IOException e) {
                        // the client may close first
                    }
                });
                StepOutcome reset = new PrivilegedSocket(path).reset(UUID, Duration.ofSeconds(10));
                assertEquals(Result.FAILED, reset.result(), answer + " -> " + reset.detail());
            }
        }
    }

    @Test
    void theAgentNeverSendsAnythingTheProgramWouldRefuse() {
        PrivilegedSocket socket = new PrivilegedSocket(dir.resolve("unused.sock"));
        for (String uuid : List.of("GPU-1", "0", "GPU-8a4e6f10-0003-4c2b-9d3e-5f7a1b2c3d4e; reboot", UUID.toUpperCase())) {
            assertThrows(IllegalArgumentException.class, () -> socket.ask("reset", uuid, null, Duration.ofSeconds(1)), uuid);
        }
        assertThrows(IllegalArgumentException.class, () -> socket.setPowerLimit(UUID, 0, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> socket.setPowerLimit(UUID, 5001, Duration.ofSeconds(1)));
    }

    /** A stand-in nvidia-smi that records its arguments in {@code dir/ran} and ends with {@code exit} and {@code output}. */
    private Path standIn(int exit, String output) throws IOException {
        Path smi = dir.resolve("nvidia-smi-" + exit);
        Files.writeString(smi, "#!/bin/sh\necho \"$*\" >> '" + dir.resolve("ran") + "'\necho '" + output + "'\nexit " + exit + "\n");
        assertTrue(smi.toFile().setExecutable(true));
        return smi;
    }
}
