package io.gpuagent.agent.lease;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/** The lease book's and the inventory's keys. docs/configuration.md documents them. */
@ConfigMapping(prefix = "gpu-agent")
public interface LeaseConfig {

    /**
     * Where a coordinator reaches this agent ({@code http://dgx-a.example:9400}), sent in the inventory;
     * absent: {@code http://<host name>:<http port>}.
     */
    Optional<String> advertiseUrl();

    Leases leases();

    interface Leases {
        /** {@code leases.jsonl} is rewritten to the live leases once it has more lines than this. */
        @WithDefault("10000")
        long compactAtLines();
    }
}
