package io.gpuagent.agent.cli;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import java.util.Arrays;

/**
 * The jar's entry point. {@code check} and {@code prepare-dir} are small commands that run and exit without
 * starting Quarkus or loading NVML (a node-problem-detector plugin must not hold the driver, and an init container
 * has no GPU); anything else starts the agent as before.
 */
@QuarkusMain
public final class Main {

    private Main() {
    }

    public static void main(String... args) {
        if (args.length > 0) {
            String[] rest = Arrays.copyOfRange(args, 1, args.length);
            switch (args[0]) {
                case "check" -> System.exit(NodeCheck.run(rest, System.out, System.getenv(), System.getProperties()));
                case "prepare-dir" -> System.exit(PrepareDir.run(rest, System.out, System.err));
                default -> {
                    // the agent's own arguments, if any, are Quarkus'
                }
            }
        }
        Quarkus.run(args);
    }
}
