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
 * Runs the shipped Slurm scripts (agent/slurm/) against the test agent, with a stub {@code scontrol} first on
 * the PATH that records each call (one line per call, arguments separated by a tab) and answers
 * {@code scontrol show node} from a file the test writes.
 */
final class SlurmScripts {

    static final Path SCRIPTS = Path.of("slurm").toAbsolutePath();

    final Path dir;
    final Path calls;
    final Path showNode;

    /** What a run printed and how it ended. */
    record Run(int exit, String out, String err) {
    }

    SlurmScripts(Path dir) {
        this.dir = dir;
        this.calls = dir.resolve("scontrol.calls");
        this.showNode = dir.resolve("scontrol.show");
        try {
            Path bin = Files.createDirectories(dir.resolve("bin"));
            Path stub = bin.resolve("scontrol");
            Files.writeString(stub, """
                    #!/bin/sh
                    # Stub scontrol: record the arguments, answer `show node` from a file.
                    (first=1; for a in "$@"; do [ $first = 1 ] || printf '\\t'; printf '%%s' "$a"; first=0; done; echo) >> "%s"
                    [ "$1" = show ] && cat "%s" 2>/dev/null
                    exit 0
                    """.formatted(calls, showNode));
            Files.setPosixFilePermissions(stub, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.writeString(showNode, "NodeName=node7 State=IDLE\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code script} with the agent's URL and token, plus {@code env}. */
    Run run(String script, Map<String, String> env) {
        ProcessBuilder pb = new ProcessBuilder(SCRIPTS.resolve(script).toString());
        pb.environment().put("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
        pb.environment().put("GPU_AGENT_URL", "http://127.0.0.1:" + RestAssured.port);
        pb.environment().put("GPU_AGENT_NODE", "node7");
        pb.environment().put("GPU_AGENT_TOKEN_FILE", TestToken.FILE.toAbsolutePath().toString());
        pb.environment().put("GPU_AGENT_SLURM_STATE", dir.resolve("state").toString());
        pb.environment().putAll(env);
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
