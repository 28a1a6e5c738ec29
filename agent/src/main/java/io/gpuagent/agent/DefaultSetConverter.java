package io.gpuagent.agent;

import io.gpuagent.exporter.DefaultSet;
import org.eclipse.microprofile.config.spi.Converter;

/**
 * {@code gpu-agent.metrics.default-set}: the set's own name ({@code dcgm-exporter-4.10} has a dot, which the
 * implicit enum converter cannot map); an unknown name fails start-up with the accepted ones.
 */
public final class DefaultSetConverter implements Converter<DefaultSet> {
    @Override
    public DefaultSet convert(String value) {
        return DefaultSet.of(value);
    }
}
