package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.PackagedAgent;
import io.gpuagent.nvml.fake.FakeNvml;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The state directory's disk fills up: the agent's state dir is a small tmpfs, filled by a file (this needs
 * root and a mount: CI runs as root; a chmod would not do, as the agent writes through journal files it already
 * holds open, and root ignores modes anyway). Writes that find no room (the events of a burst of XIDs, an
 * operator's cordon) make /health answer 503 naming the journal and the cause, the log says what failed and
 * what to do, the cordon is refused with 503 and not done (audit first, then act), and /metrics keeps serving
 * every GPU; when space returns (the filler deleted) the agent reopens the journals by itself and /health is 200
 * again. A read-only remount is not tried: Linux refuses it while the agent holds the journals open for writing.
 * Where no tmpfs can be mounted the case is reported SKIPPED with the reason, in the report and to JUnit.
 */
class FaultInjectionDiskFullIT {

    static final String CASE = "disk full state dir";
    static final String OPERATOR = "disk-operator-" + System.nanoTime();
    static final Duration DETECT_LIMIT = Duration.ofSeconds(10);
    /** The journal watch retries 1 s, 2 s, 4 s, ... while the disk fails: a few seconds full means ~4 s at most. */
    static final Duration RECOVER_LIMIT = Duration.ofSeconds(15);

    @Test
    void aFullOrReadOnlyStateDirIsReportedAndRecoveredFrom() throws Exception {
        Path mount = Files.createDirectories(Path.of("target", "it-agents").toAbsolutePath().resolve("disk-" + System.nanoTime()));
        String refused = run("mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", mount.toString());
        if (refused != null) {
            String why = "no tmpfs could be mounted for the state dir (" + refused.strip() + "; user "
                    + System.getProperty("user.name") + "); a chmod cannot fail writes to journal files the agent "
                    + "already holds open";
            FaultReport.skipped(CASE, why);
            Assumptions.abort(why);
        }
        try (PackagedAgent agent = PackagedAgent.named("fault-disk").stateDir(mount.resolve("state"))
                .property("gpu-agent.auth.operator-token-file",
                        PackagedAgent.writeCredential(mount.getParent().resolve(mount.getFileName() + "-operator"), OPERATOR))
                .start()) {
            agent.awaitScrape().awaitWatching();
            agent.await(PackagedAgent.START, () -> assertEquals(200, agent.status("/health")));

            // Disk full. tmpfs counts whole pages: an append that fits in the slack of a journal's last page still
            // succeeds on a full disk, so the XIDs that make the events journal write are more than a page: one of
            // each warning code on each GPU (distinct, so none is coalesced).
            Path filler = mount.resolve("filler");
            fill(filler);
            StringBuilder xids = new StringBuilder("gpus = 8\n");
            for (int code : new int[] {13, 31, 43, 45}) {
                for (int gpu = 0; gpu < 8; gpu++) {
                    xids.append("event.").append(FakeNvml.nextEventNumber()).append(" = ").append(gpu).append(" xid ")
                            .append(code).append('\n');
                }
            }
            agent.scenario(xids.toString());
            long full = outage(agent, "events.jsonl", "No space left on device");

            // An operator's cordon on the full disk: refused with 503 once its audit line finds no room (earlier
            // tries may still fit in the slack of the audit log's last page; each one acknowledged is undone).
            boolean cordonedAcked = false;
            int tries = 0;
            HttpResponse<String> refused503 = null;
            while (refused503 == null && tries < 60) {
                tries++;
                String op = cordonedAcked ? "/uncordon" : "/cordon";
                HttpResponse<String> r = agent.send("POST", "/v1/gpus/4" + op, OPERATOR, "{\"reason\":\"disk test\"}");
                if (r.statusCode() == 200) {
                    cordonedAcked = !cordonedAcked;
                } else {
                    assertEquals(503, r.statusCode(), "an operator action that cannot be audited: " + r.body());
                    refused503 = r;
                }
            }
            assertTrue(refused503 != null, "every cordon/uncordon was acknowledged on a full disk");
            assertTrue(refused503.body().contains("must be writable"), refused503.body());
            outage(agent, "actions.jsonl", "No space left on device");

            Files.delete(filler);
            long recoverFull = recover(agent, "events.jsonl");
            assertTrue(agent.log().contains("the actions.jsonl journal is writable again"), agent.log());
            String uuid4 = "GPU-8a4e6f10-0004-4c2b-9d3e-5f7a1b2c3d4e";
            boolean cordonedNow = agent.body("/v1/recovery").contains(uuid4);
            assertEquals(cordonedAcked, cordonedNow, "GPU 4 is cordoned as the last acknowledged action left it, "
                    + "not as the refused one asked");

            boolean met = FaultReport.row(CASE, "disk full (4 MiB tmpfs): /health 503 naming the events journal and \"No space "
                    + "left on device\" " + full + " ms after the XIDs, the log saying what to free, /metrics serving all 8 GPUs "
                    + "throughout; an operator cordon answered 503 (on try " + tries + "; an earlier one can fit in page slack) "
                    + "and was not done; /health 200 again " + recoverFull + " ms after the space returned, both journals "
                    + "reopened", "detected <= " + DETECT_LIMIT.toSeconds() + " s, recovered <= " + RECOVER_LIMIT.toSeconds() + " s",
                    full <= DETECT_LIMIT.toMillis() && recoverFull <= RECOVER_LIMIT.toMillis());
            assertTrue(met);
        } finally {
            run("umount", "-l", mount.toString());
        }
    }

    /** After a write that the disk refused: what /health, the log and /metrics say; the time until /health said it. */
    private static long outage(PackagedAgent agent, String journal, String cause) {
        long t0 = System.nanoTime();
        agent.await(DETECT_LIMIT.plusSeconds(20), () -> {
            HttpResponse<String> health = agent.get("/health");
            assertEquals(503, health.statusCode(), health.body());
            assertTrue(health.body().contains("journal " + journal) && health.body().contains(cause)
                    && health.body().contains("check space and permissions of gpu-agent.state-dir"), health.body());
        });
        long detectMs = (System.nanoTime() - t0) / 1_000_000;
        agent.awaitLog("the " + journal + " journal failed", Duration.ofSeconds(10));
        assertTrue(agent.log().contains("free space or fix permissions in gpu-agent.state-dir"), agent.log());

        String metrics = agent.body("/metrics");
        assertEquals(8, metrics.lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{")).count(), "GPUs still served");
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("gpu_agent_journal_up{") && l.contains(journal)
                && l.endsWith(" 0.0")), "gpu_agent_journal_up for the " + journal + " journal is 0");
        return detectMs;
    }

    /** Waits until /health is 200 again (the journal reopened); the time it took. */
    private static long recover(PackagedAgent agent, String journal) {
        long t0 = System.nanoTime();
        agent.await(RECOVER_LIMIT.plusSeconds(60), () -> assertEquals(200, agent.status("/health")));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(agent.log().contains("the " + journal + " journal is writable again"), agent.log());
        return ms;
    }

    private static void fill(Path filler) throws IOException {
        byte[] chunk = "x".repeat(65536).getBytes(StandardCharsets.US_ASCII);
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(chunk);
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw e;
            }
        }
    }

    /** Runs a command; null when it succeeded, else what it said. */
    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return String.join(" ", command) + ": timed out";
        }
        return p.exitValue() == 0 ? null : String.join(" ", command) + ": exit " + p.exitValue() + ": " + out;
    }
}
