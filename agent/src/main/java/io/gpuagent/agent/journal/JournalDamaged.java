package io.gpuagent.agent.journal;

import java.io.IOException;

/**
 * A journal's open refused a damaged complete line ({@link JsonlJournal.OnCorruption#REFUSE}): dropping a line
 * can change state silently (a lost release revives a lease). The message names the file and the line.
 */
public final class JournalDamaged extends IOException {
    public JournalDamaged(String message) {
        super(message);
    }
}
