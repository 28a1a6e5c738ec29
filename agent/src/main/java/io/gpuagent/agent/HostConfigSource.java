package io.gpuagent.agent;

import io.smallrye.config.PropertiesConfigSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.eclipse.microprofile.config.spi.ConfigSource;
import org.eclipse.microprofile.config.spi.ConfigSourceProvider;

/**
 * The host's own settings, {@code /etc/gpu-agent/agent.properties} (or the file named by the environment
 * variable {@code GPU_AGENT_CONFIG}), above the packaged defaults and below environment variables and
 * {@code -D} flags. Quarkus' {@code quarkus.config.locations} refuses to start when the file is missing;
 * a fresh host has none, so this source is simply empty then.
 */
public class HostConfigSource implements ConfigSourceProvider {

    public static final String DEFAULT_FILE = "/etc/gpu-agent/agent.properties";
    /** Between application.properties (250) and environment variables (300). */
    public static final int ORDINAL = 270;

    @Override
    public Iterable<ConfigSource> getConfigSources(ClassLoader forClassLoader) {
        return sources(file());
    }

    /** The host's settings file: {@code $GPU_AGENT_CONFIG}, else {@link #DEFAULT_FILE}. */
    public static Path file() {
        return Path.of(System.getenv().getOrDefault("GPU_AGENT_CONFIG", DEFAULT_FILE));
    }

    /**
     * No file: no source. A file that is there but cannot be read (permissions, a dangling link) stops the
     * start: running on the defaults while the operator's settings (enforce mode, credentials) are ignored
     * would be worse than not running.
     */
    public static List<ConfigSource> sources(Path file) {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        if (!Files.isReadable(file) || Files.isDirectory(file)) {   // /dev/null is fine: no settings
            throw new IllegalStateException(file + " exists but the agent cannot read it as a file; make it readable "
                    + "by the agent's user (e.g. chmod 0640 and group gpu-agent), point it at a real file, or remove it");
        }
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + "; fix its permissions or remove it", e);
        }
        return List.of(new PropertiesConfigSource(properties, file.toString(), ORDINAL));
    }
}
