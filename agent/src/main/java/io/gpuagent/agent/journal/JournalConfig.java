package io.gpuagent.agent.journal;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** {@code gpu-agent.journal.*}: how the journals in gpu-agent.state-dir treat damage (docs/configuration.md). */
@ConfigMapping(prefix = "gpu-agent.journal")
public interface JournalConfig {

    /**
     * A complete line in the middle of a journal that does not parse or fails its CRC: {@code refuse} to
     * start (the default: the line may be a lease release or a cordon), or {@code skip} it with a warning.
     */
    @WithDefault("refuse")
    JsonlJournal.OnCorruption onCorruption();
}
