package io.gpuagent.agent;

import io.smallrye.config.PropertiesConfigSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
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

    static final String DEFAULT_FILE = "/etc/gpu-agent/agent.properties";
    /** Between application.properties (250) and environment variables (300). */
    static final int ORDINAL = 270;

    @Override
    public Iterable<ConfigSource> getConfigSources(ClassLoader forClassLoader) {
        Path file = Path.of(System.getenv().getOrDefault("GPU_AGENT_CONFIG", DEFAULT_FILE));
        if (!Files.isReadable(file)) {
            return List.of();
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
