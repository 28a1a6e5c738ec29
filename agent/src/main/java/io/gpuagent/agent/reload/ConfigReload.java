package io.gpuagent.agent.reload;

import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.HostConfigSource;
import io.gpuagent.agent.OneLine;
import io.gpuagent.agent.health.HealthConfig;
import io.gpuagent.agent.recovery.RecoveryConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.quarkus.runtime.configuration.DurationConverter;
import io.quarkus.runtime.configuration.PathConverter;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.StreamSupport;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.spi.ConfigSource;
import org.jboss.logging.Logger;

/**
 * {@code systemctl reload gpu-agent} (SIGHUP) and {@code POST /v1/config/reload}: reads the configuration again
 * (the host's settings file read anew, every other source as the agent started with it, the same precedence),
 * lets every {@link Reloadable} check its part, and applies all of them or none (last-known-good). Settings no
 * part takes are logged as needing a restart when they changed. docs/configuration.md#reloading.
 */
@ApplicationScoped
public class ConfigReload {

    private static final Logger LOG = Logger.getLogger(ConfigReload.class);
    static final String RELOADS = "gpu_agent_config_reloads_total";
    static final String LAST_RELOAD = "gpu_agent_config_last_reload_timestamp_seconds";
    private static final String PREFIX = "gpu-agent.";
    /** A refusal's reason in the log and the answer: one line, bounded (it may quote a file's line). */
    static final int REASON_MAX = 500;

    /**
     * What a reload did. {@code applied}: the new configuration is in force (what {@code changed}); else
     * {@code refused} says why and nothing changed. {@code needRestart}: settings that differ from those the
     * agent runs with but only take effect at a restart.
     */
    public record Outcome(boolean applied, List<String> changed, String refused, List<String> needRestart) {
    }

    private final List<Reloadable> parts;
    private final Clock clock;
    private final Counter ok;
    private final Counter refused;
    private final AtomicLong lastReload = new AtomicLong();   // epoch seconds of the last applied reload; 0: none
    private Map<String, String> inForce;   // guarded by this: gpu-agent.* values as the running parts took them

    public ConfigReload(Instance<Reloadable> parts, AgentRegistry agentRegistry) {
        this.parts = parts.stream().toList();
        this.clock = Clock.systemUTC();
        this.inForce = values(ConfigProvider.getConfig().unwrap(SmallRyeConfig.class), Set.of());
        this.ok = Counter.builder(RELOADS).tag("result", "ok")
                .description("Configuration reloads (SIGHUP, systemctl reload, POST /v1/config/reload) by result: "
                        + "ok (in force) or refused (the old configuration kept; the log says why).")
                .register(agentRegistry.registry());
        this.refused = Counter.builder(RELOADS).tag("result", "refused")
                .description("Configuration reloads (SIGHUP, systemctl reload, POST /v1/config/reload) by result: "
                        + "ok (in force) or refused (the old configuration kept; the log says why).")
                .register(agentRegistry.registry());
        Gauge.builder(LAST_RELOAD, lastReload, AtomicLong::get)
                .description("When the last configuration reload was put in force (Unix seconds); 0 before any.")
                .strongReference(true).register(agentRegistry.registry());
    }

    /** Reloads from the host's settings file ({@code $GPU_AGENT_CONFIG}, else /etc/gpu-agent/agent.properties). */
    public Outcome reload(String trigger) {
        return reload(trigger, HostConfigSource.file());
    }

    /** One reload at a time: a second SIGHUP while one runs waits for it and reads the files again. */
    synchronized Outcome reload(String trigger, Path hostFile) {
        SmallRyeConfig next;
        Map<String, String> values;
        try {
            next = read(hostFile);
            values = values(next, inForce.keySet());
        } catch (RuntimeException e) {
            return refuse(trigger, "the configuration does not read: " + reason(e));
        }
        Set<String> changed = new TreeSet<>();
        for (String name : union(inForce.keySet(), values.keySet())) {
            if (!Objects.equals(inForce.get(name), values.get(name))) {
                changed.add(name);
            }
        }
        List<Reloadable.Staged> staged = new ArrayList<>();
        for (Reloadable part : parts) {
            try {
                part.prepare(next, changed).ifPresent(staged::add);
            } catch (RuntimeException e) {
                return refuse(trigger, reason(e));
            }
        }
        staged.forEach(s -> s.apply().run());
        List<String> needRestart = new ArrayList<>();
        Map<String, String> now = new HashMap<>(values);
        for (String name : changed) {
            if (!reloadable(name)) {
                needRestart.add(name);
                // Still the old value in force: the next reload names it again until the restart.
                if (inForce.containsKey(name)) {
                    now.put(name, inForce.get(name));
                } else {
                    now.remove(name);
                }
            }
        }
        inForce = now;
        ok.increment();
        lastReload.set(clock.instant().getEpochSecond());
        List<String> what = staged.stream().map(Reloadable.Staged::what).toList();
        LOG.infof("configuration reloaded (%s): %s", trigger, what.isEmpty() ? "nothing reloadable changed" : String.join("; ", what));
        if (!needRestart.isEmpty()) {
            LOG.warnf("configuration reload (%s): %s changed but only take effect at a restart; run 'systemctl "
                    + "restart gpu-agent' to apply them (docs/configuration.md#reloading lists what a reload takes)",
                    trigger, String.join(", ", needRestart));
        }
        return new Outcome(true, what, null, needRestart);
    }

    private Outcome refuse(String trigger, String why) {
        refused.increment();
        LOG.warnf("configuration reload (%s) refused, the running configuration is kept: %s; fix it and reload "
                + "again (systemctl reload gpu-agent)", trigger, why);
        return new Outcome(false, List.of(), why, List.of());
    }

    private boolean reloadable(String name) {
        for (Reloadable part : parts) {
            if (part.takes(name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The configuration as the agent would read it at a start now: the sources it started with, the host's
     * settings file read again in place of the one it read then. The environment and -D flags are the
     * process's own and cannot change while it runs. Mapping here validates every reloadable interface.
     */
    static SmallRyeConfig read(Path hostFile) {
        SmallRyeConfig running = ConfigProvider.getConfig().unwrap(SmallRyeConfig.class);
        List<ConfigSource> sources = new ArrayList<>();
        for (ConfigSource s : running.getConfigSources()) {
            if (s.getOrdinal() != HostConfigSource.ORDINAL) {
                sources.add(s);
            }
        }
        sources.addAll(HostConfigSource.sources(hostFile));
        SmallRyeConfigBuilder builder = new SmallRyeConfigBuilder()
                .withProfiles(running.getProfiles())
                .addDefaultInterceptors()
                .withSources(sources)
                .withValidateUnknown(false)
                .withMapping(AgentConfig.class)
                .withMapping(HealthConfig.class)
                .withMapping(RecoveryConfig.class);
        // Quarkus' own converters, as at start: "60s" durations (SmallRye alone takes ISO-8601 only), paths.
        builder.withConverter(Duration.class, 200, new DurationConverter());
        builder.withConverter(Path.class, 200, new PathConverter());
        return builder.build();
    }

    /** The gpu-agent.* values {@code config} gives, for its own names and {@code also}. */
    private static Map<String, String> values(SmallRyeConfig config, Set<String> also) {
        Map<String, String> out = new HashMap<>();
        Iterable<String> names = config.getPropertyNames();
        for (String name : union(also, StreamSupport.stream(names.spliterator(), false).toList())) {
            if (name.startsWith(PREFIX)) {
                String value = config.getConfigValue(name).getValue();
                if (value != null) {
                    out.put(name, value);
                }
            }
        }
        return out;
    }

    private static Set<String> union(Iterable<String> a, Iterable<String> b) {
        Set<String> out = new TreeSet<>();
        a.forEach(out::add);
        b.forEach(out::add);
        return out;
    }

    private static String reason(Throwable e) {
        StringBuilder s = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != e; c = c.getCause()) {
            if (c.getMessage() != null && !s.toString().contains(c.getMessage())) {
                s.append(": ").append(c.getMessage());
            }
        }
        return OneLine.of(s.toString(), REASON_MAX);
    }

    /** For the answer of POST /v1/config/reload: when the last reload was put in force, null before any. */
    public Instant lastReload() {
        long s = lastReload.get();
        return s == 0 ? null : Instant.ofEpochSecond(s);
    }
}
