package io.gpuagent.agent.scan;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import java.util.Arrays;

/**
 * The jar's entry point: {@code gpu-agent scan ...} runs {@link Scan} and exits without starting Quarkus (no HTTP
 * server, no event log); anything else starts the agent as before.
 */
@QuarkusMain
public class AgentMain {

    public static void main(String... args) {
        if (args.length > 0 && args[0].equals("scan")) {
            System.exit(Scan.run(Arrays.asList(args).subList(1, args.length), System.out, System.err));
        }
        Quarkus.run(args);
    }
}
