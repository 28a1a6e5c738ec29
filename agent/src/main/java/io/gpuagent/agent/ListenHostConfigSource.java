package io.gpuagent.agent;

import io.smallrye.config.common.MapBackedConfigSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.spi.ConfigSource;
import org.eclipse.microprofile.config.spi.ConfigSourceProvider;

/**
 * The default {@code quarkus.http.host}: {@code ::} where the host has IPv6, else {@code 0.0.0.0}.
 *
 * <p>Why: a listener on {@code 0.0.0.0:9400} leaves {@code [::]:9400} and {@code [::1]:9400} free, so any local user
 * could bind them beside the agent, and {@code curl localhost:9400} (which tries {@code ::1} first) would reach that
 * user's process. Java binds {@code ::} dual-stack ({@code IPV6_V6ONLY} off), which holds the IPv4 wildcard too:
 * then no other user can bind the port on any address. A host booted with {@code ipv6.disable=1} has no IPv6
 * sockets at all ({@code /proc/net/if_inet6} is missing) and binding {@code ::} would fail, so it gets the IPv4
 * wildcard. Below application.properties (250), so every file, variable or flag that names a host still wins.
 */
public class ListenHostConfigSource implements ConfigSourceProvider {

    static final int ORDINAL = 240;
    static final Path IF_INET6 = Path.of("/proc/net/if_inet6");

    @Override
    public Iterable<ConfigSource> getConfigSources(ClassLoader forClassLoader) {
        String host = anyAddress(IF_INET6, Boolean.getBoolean("java.net.preferIPv4Stack"));
        return List.of(new MapBackedConfigSource("gpu-agent listen host (IPv6 " + (host.equals("::") ? "on" : "off") + ")",
                Map.of("quarkus.http.host", host), ORDINAL) {
        });
    }

    /** {@code ::} (dual-stack) when the kernel has IPv6 and Java uses it; else {@code 0.0.0.0}. */
    static String anyAddress(Path ifInet6, boolean preferIPv4Stack) {
        return !preferIPv4Stack && Files.exists(ifInet6) ? "::" : "0.0.0.0";
    }
}
