package io.gpuagent.agent.reload;

import io.smallrye.config.SmallRyeConfig;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A part of the agent whose settings a configuration reload may change (docs/configuration.md#reloading).
 * A reload first asks every part to {@link #prepare} the new configuration (read its files, build what it
 * will use, refuse what is wrong) and applies the staged changes only when no part refused: so a bad file
 * changes nothing at all. A CDI bean implementing this joins every reload.
 *
 * <p>An implementation lives here, or in a package this one does not import (this package imports the
 * sampler and the health model, so they cannot import it back).
 */
public interface Reloadable {

    /** The settings this part takes on reload: exact property names, or prefixes ending in a dot. */
    List<String> keys();

    /** Exact names under {@link #keys()} that still take a restart (reported as such when they change). */
    default List<String> restartOnly() {
        return List.of();
    }

    /** Whether a reload puts {@code name} in force through this part: under {@link #keys()}, not restart-only. */
    default boolean takes(String name) {
        if (restartOnly().contains(name)) {
            return false;
        }
        for (String key : keys()) {
            if (key.endsWith(".") ? name.startsWith(key) : name.equals(key)) {
                return true;
            }
        }
        return false;
    }

    /** The names of {@code changedKeys} this part {@link #takes}, sorted. */
    default Set<String> taken(Set<String> changedKeys) {
        Set<String> mine = new TreeSet<>();
        changedKeys.stream().filter(this::takes).forEach(mine::add);
        return mine;
    }

    /**
     * Checks {@code next} (the whole configuration as read now) and returns the change to apply, or empty when
     * nothing of this part changed. No side effects. {@code changedKeys}: the names whose value differs from
     * the configuration in force (a part whose files may change under the same names reads them anyway).
     *
     * @throws RuntimeException with the reason, when the new settings or files are wrong
     */
    Optional<Staged> prepare(SmallRyeConfig next, Set<String> changedKeys);

    /** A checked change: what it is (one line for the log and the answer) and how to put it in force. */
    record Staged(String what, Runnable apply) {
    }
}
