package io.gpuagent.agent.slurm;

import io.gpuagent.agent.TestToken;
import io.restassured.RestAssured;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the shipped Slurm scripts (agent/slurm/) against the test agent, with the stub {@code scontrol}
 * (src/test/resources/slurm/scontrol) first on the PATH (RealSlurmTest runs them under a real slurmd): it records each call (one line per call, arguments
 * separated by a tab) and answers {@code scontrol show node} from a file the test writes.
 */
public final class SlurmScripts {

    public static final Path SCRIPTS = Path.of("slurm").toAbsolutePath();
    static final Path STUB = Path.of("src/test/resources/slurm/scontrol").toAbsolutePath();
    /** The agent's user for the scripts' owner checks: the test agent runs in this JVM, as we do. */
    static final String USER = System.getProperty("user.name");

    final Path dir;
    final Path calls;
    final Path showNode;
    /** GPU_AGENT_SLURM_JOB_ENV: the prolog's notes for the task prolog. */
    final Path jobEnv;

    /** What a run printed and how it ended. */
    public record Run(int exit, String out, String err) {
    }

    SlurmScripts(Path dir) {
        this.dir = dir;
        this.calls = dir.resolve("scontrol.calls");
        this.showNode = dir.resolve("scontrol.show");
        this.jobEnv = dir.resolve("job-env");
        try {
            // The shared stub (also the test profile's drain-command), first on the PATH under its own name; it
            // knows this test's files even when the script runs without our environment (runBare).
            stubScontrol(dir, calls, showNode);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Puts the stub {@code scontrol} in {@code dir/bin} (first on a script's PATH), recording its calls in
     * {@code calls} and answering {@code scontrol show node} from {@code show}, which starts as an idle node7.
     */
    public static void stubScontrol(Path dir, Path calls, Path show) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.writeString(bin.resolve("scontrol"), """
                #!/bin/sh
                SCONTROL_CALLS=%s SCONTROL_SHOW=%s exec sh %s "$@"
                """.formatted(calls, show, STUB));
        Files.setPosixFilePermissions(bin.resolve("scontrol"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(show, "NodeName=node7 State=IDLE\n");
    }

    /** Runs {@code script} with the agent's URL and token, plus {@code env}, as slurmd would on node7. */
    Run run(String script, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of(SCRIPTS.resolve(script).toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        // Only what the test gives: a CUDA_VISIBLE_DEVICES or SLURM_JOB_GPUS of the machine running the build
        // would otherwise reach the scripts as if Slurm had set it.
        pb.environment().keySet().removeIf(k -> k.startsWith("SLURM") || k.startsWith("CUDA_") || k.startsWith("GPU_AGENT_"));
        pb.environment().put("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
        pb.environment().put("GPU_AGENT_SLURM_ENV", dir.resolve("no-such-settings").toString());
        pb.environment().put("GPU_AGENT_URL", "http://127.0.0.1:" + RestAssured.port);
        pb.environment().put("GPU_AGENT_USER", USER);   // the test agent runs as we do
        pb.environment().put("SLURMD_NODENAME", "node7");
        pb.environment().put("GPU_AGENT_TOKEN_FILE", TestToken.FILE.toAbsolutePath().toString());
        pb.environment().put("GPU_AGENT_SLURM_STATE", dir.resolve("state").toString());
        pb.environment().put("GPU_AGENT_SLURM_JOB_ENV", jobEnv.toString());
        pb.environment().putAll(env);
        return start(script, pb);
    }

    /**
     * Runs {@code script} as slurmd starts its health check: no environment but {@code env} (no PATH), the settings
     * in a file (GPU_AGENT_SLURM_ENV): {@code settings}, then the agent's URL, token and this test's PATH.
     */
    Run runBare(String script, String settings, Map<String, String> env) {
        Path file = dir.resolve("slurm.env");
        try {
            // Ours last: in the file, the last value of a key wins.
            Files.writeString(file, settings + """
                    # as /etc/gpu-agent/slurm.env
                    GPU_AGENT_URL=http://127.0.0.1:%d
                    GPU_AGENT_USER=%s
                    GPU_AGENT_TOKEN_FILE="%s"
                    GPU_AGENT_SLURM_STATE='%s'
                    GPU_AGENT_SLURM_JOB_ENV=%s
                    PATH=%s
                    """.formatted(RestAssured.port, USER, TestToken.FILE.toAbsolutePath(), dir.resolve("state"), jobEnv,
                    dir.resolve("bin")));
            // The scripts refuse a settings file anyone but its owner may write (whatever the umask).
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ProcessBuilder pb = new ProcessBuilder(SCRIPTS.resolve(script).toString());
        pb.environment().clear();
        pb.environment().put("GPU_AGENT_SLURM_ENV", file.toString());
        pb.environment().putAll(env);
        return start(script, pb);
    }

    private Run start(String script, ProcessBuilder pb) {
        return start(dir, script, pb);
    }

    /** Runs {@code pb} (the script {@code script}) to its end, at most 60 s, its output kept in files in {@code dir}. */
    public static Run start(Path dir, String script, ProcessBuilder pb) {
        try {
            Path out = Files.createTempFile(dir, "out", ".txt");
            Path err = Files.createTempFile(dir, "err", ".txt");
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(script + " did not finish in 60 s");
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The recorded scontrol calls, each as its argument list; and forgets them. */
    List<List<String>> takeCalls() {
        try {
            List<List<String>> out = new ArrayList<>();
            if (Files.exists(calls)) {
                for (String line : Files.readAllLines(calls, StandardCharsets.UTF_8)) {
                    out.add(List.of(line.split("\t", -1)));
                }
                Files.delete(calls);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void nodeShows(String text) {
        try {
            Files.writeString(showNode, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
