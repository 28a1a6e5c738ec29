package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * systemd/gpu-agent-privileged, the root-owned helper, run as systemd runs it (the request on standard input,
 * the answer on standard output), under dash as Debian's /bin/sh, with a stand-in nvidia-smi that records its
 * arguments: every request outside the grammar is refused before any program runs, and the accepted ones run
 * nvidia-smi with exactly the arguments they name.
 */
class PrivilegedProgramTest {

    static final String UUID = "GPU-8a4e6f10-0003-4c2b-9d3e-5f7a1b2c3d4e";

    @TempDir
    Path dir;
    Path smi;
    Path ran;
    Path canary;

    record Run(int exit, String answer) {
    }

    @BeforeEach
    void standIn() throws IOException {
        ran = dir.resolve("ran");
        canary = dir.resolve("pwned");
        smi = dir.resolve("nvidia-smi");
        Files.writeString(smi, """
                #!/bin/sh
                echo "$*" >> '%s'
                [ -e '%s' ] && { echo 'Insufficient Permissions'; exit 4; }
                case "$*" in *-rmc) echo 'not supported'; exit 3 ;; esac
                echo 'All done.'
                """.formatted(ran, dir.resolve("deny")));
        assertTrue(smi.toFile().setExecutable(true));
    }

    @Test
    void everyRequestOutsideTheGrammarIsRefusedAndRunsNothing() throws Exception {
        String c = canary.toString();
        List<byte[]> malicious = new ArrayList<>();
        for (String s : List.of(
                "reset " + UUID + "; touch " + c,
                "reset " + UUID + " && touch " + c,
                "reset " + UUID + " | touch " + c,
                "reset $(touch " + c + ")",
                "reset `touch " + c + "`",
                "reset " + UUID + "$(touch " + c + ")",
                "reset " + UUID + "\r",
                "reset\t" + UUID,
                "reset  " + UUID,
                " reset " + UUID,
                "reset " + UUID + " ",
                "reset " + UUID + " extra",
                "reset " + UUID + " 300",
                "reset-clocks " + UUID + " -rgc",
                "set-power-limit " + UUID,
                "set-power-limit " + UUID + " 0",
                "set-power-limit " + UUID + " 0560",
                "set-power-limit " + UUID + " -1",
                "set-power-limit " + UUID + " 560.5",
                "set-power-limit " + UUID + " 1e3",
                "set-power-limit " + UUID + " 5001",
                "set-power-limit " + UUID + " 99999",
                "set-power-limit " + UUID + " 560 --gpu-reset",
                "reboot " + UUID,
                "RESET " + UUID,
                "reset",
                "reset 0",
                "reset 00000000:17:00.0",
                "reset GPU-8A4E6F10-0003-4C2B-9D3E-5F7A1B2C3D4E",
                "reset MIG-8a4e6f10-0003-4c2b-9d3e-5f7a1b2c3d4e",
                "reset GPU-8a4e6f10-0003-4c2b-9d3e-5f7a1b2c3d4",
                "reset GPU-8a4e6f10-0003-4c2b-9d3e-5f7a1b2c3d4ee",
                "reset GPU-8a4e6f10-0003-4c2b-9d3e5f7a1b2c3d4e0",
                "reset -i " + UUID,
                "reset GPU\u20108a4e6f10-0003-4c2b-9d3e-5f7a1b2c3d4e",
                "reset " + UUID + "\u2028",
                "{\"action\":\"reset\",\"gpu\":\"" + UUID + "\"}",
                "action=reset gpu=" + UUID,
                "")) {
            malicious.add((s + "\n").getBytes(StandardCharsets.UTF_8));
        }
        malicious.add(("res\0et " + UUID + "\n").getBytes(StandardCharsets.ISO_8859_1));
        malicious.add(("reset " + UUID + "\0\n").getBytes(StandardCharsets.ISO_8859_1));
        malicious.add(("reset " + UUID).repeat(1000).getBytes(StandardCharsets.US_ASCII));
        malicious.add(("reset " + UUID + " ".repeat(200) + "\n").getBytes(StandardCharsets.US_ASCII));
        malicious.add(new byte[100_000]);
        for (byte[] request : malicious) {
            Run r = run(request);
            String shown = new String(request, 0, Math.min(request.length, 120), StandardCharsets.ISO_8859_1);
            assertEquals(64, r.exit(), shown + " -> " + r);
            assertTrue(r.answer().startsWith("refused 64 ") && r.answer().endsWith("\n")
                    && r.answer().indexOf('\n') == r.answer().length() - 1, shown + " -> " + r);
            assertFalse(Files.exists(ran), shown + " ran nvidia-smi: " + (Files.exists(ran) ? Files.readString(ran) : ""));
            assertFalse(Files.exists(canary), shown + " ran a command of its own");
        }
        assertTrue(run(new byte[0]).answer().contains("no request line"));
        assertTrue(run(("reset " + UUID).repeat(1000).getBytes(StandardCharsets.US_ASCII)).answer().contains("longer than 128 bytes"));
        assertTrue(run(("set-power-limit " + UUID + " 5001\n").getBytes(StandardCharsets.US_ASCII)).answer()
                .contains("above 5000 W"));
    }

    @Test
    void eachActionRunsNvidiaSmiWithExactlyItsArguments() throws Exception {
        assertEquals(new Run(0, "ok 0 All done.\n"), run("reset " + UUID + "\n"));
        assertEquals(List.of("--gpu-reset -i " + UUID), Files.readAllLines(ran));
        Files.delete(ran);

        assertEquals(new Run(0, "ok 0 All done.\n"), run("set-power-limit " + UUID + " 560\n"));
        assertEquals(List.of("-i " + UUID + " -pl 560"), Files.readAllLines(ran));
        Files.delete(ran);

        // The locked memory clock reset is not supported here (exit 3): the others still count.
        assertEquals(new Run(0, "ok 0 locked GPU clocks reset, locked memory clocks not supported, application clocks reset\n"),
                run("reset-clocks " + UUID + "\n"));
        assertEquals(List.of("-i " + UUID + " -rgc", "-i " + UUID + " -rmc", "-i " + UUID + " -rac"), Files.readAllLines(ran));
        Files.delete(ran);

        // One request per connection: a second line is never read.
        assertEquals(0, run("reset " + UUID + "\nset-power-limit " + UUID + " 100\n").exit());
        assertEquals(List.of("--gpu-reset -i " + UUID), Files.readAllLines(ran));
    }

    @Test
    void nvidiaSmiFailingSaysSoWithItsExitStatus() throws Exception {
        Files.writeString(dir.resolve("deny"), "");
        assertEquals(new Run(4, "failed 4 Insufficient Permissions\n"), run("set-power-limit " + UUID + " 560\n"));
        Run clocks = run("reset-clocks " + UUID + "\n");
        assertEquals(4, clocks.exit(), clocks.toString());
        assertTrue(clocks.answer().startsWith("failed 4 locked GPU clocks: exit 4: Insufficient Permissions"), clocks.toString());
    }

    private Run run(String request) throws IOException, InterruptedException {
        return run(request.getBytes(StandardCharsets.US_ASCII));
    }

    /** The program under dash (Debian's /bin/sh; POSIX sh only), as systemd starts it for one connection. */
    private Run run(byte[] request) throws IOException, InterruptedException {
        String shell = Files.isExecutable(Path.of("/bin/dash")) ? "/bin/dash" : "sh";
        ProcessBuilder pb = new ProcessBuilder(shell, AcceptSocket.PROGRAM.toString()).directory(dir.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("GPU_AGENT_PRIVILEGED_NVIDIA_SMI", smi.toString());
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(request);
        } catch (IOException e) {
            // it stopped reading after its line, as it should
        }
        String answer = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the program did not end");
        return new Run(p.exitValue(), answer);
    }
}
