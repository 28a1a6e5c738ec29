package io.gpuagent.agent.coordinator;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Where the coordinator may send a node's credential and take leases: an agentUrl with the scheme the
 * configuration demands (https once {@code gpu-agent.tls.trust-certificates} is set, or with
 * {@code gpu-agent.coordinator.require-https}) whose host is none of this machine's own or the link's
 * addresses (loopback, link-local: a cloud's metadata service) unless {@code allow-loopback-agents}, and never
 * an any-local or multicast address. Checked when a node registers and again before each call, with the name
 * resolved each time (DNS may have changed).
 */
public record AgentUrlPolicy(boolean requireHttps, boolean allowLoopback, Resolver resolver) {

    /** Name resolution; the JDK's in production. */
    @FunctionalInterface
    public interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    /** What is wrong with an agentUrl: {@code status} 400 for its form, 403 for where it leads. */
    public record Problem(int status, String detail) {
    }

    public AgentUrlPolicy(boolean requireHttps, boolean allowLoopback) {
        this(requireHttps, allowLoopback, InetAddress::getAllByName);
    }

    public Optional<Problem> check(String agentUrl) {
        URI u;
        try {
            u = URI.create(agentUrl);
        } catch (IllegalArgumentException | NullPointerException e) {
            return Optional.of(new Problem(400, "\"agentUrl\" " + agentUrl + " is not a URL"));
        }
        String host = u.getHost();
        if (host == null || !("http".equals(u.getScheme()) || "https".equals(u.getScheme()))) {
            return Optional.of(new Problem(400, "\"agentUrl\" " + agentUrl + " is not an http(s) URL with a host"));
        }
        if (requireHttps && !"https".equals(u.getScheme())) {
            return Optional.of(new Problem(400, "\"agentUrl\" " + agentUrl + " is not https, and this coordinator "
                    + "calls agents over https only (gpu-agent.tls.trust-certificates or gpu-agent.coordinator."
                    + "require-https is set); give the agent an HTTPS listener and an https agentUrl"));
        }
        InetAddress[] addresses;
        try {
            addresses = resolver.resolve(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
        } catch (UnknownHostException e) {
            return Optional.of(new Problem(400, "the host of \"agentUrl\" " + agentUrl + " cannot be resolved by the "
                    + "coordinator; give a name or address the coordinator can reach"));
        }
        for (InetAddress a : addresses) {
            String kind = a.isAnyLocalAddress() ? "an any-local address" : a.isMulticastAddress() ? "a multicast address"
                    : null;
            if (kind == null && !allowLoopback) {
                kind = a.isLoopbackAddress() ? "a loopback address" : a.isLinkLocalAddress() ? "a link-local address"
                        : null;
            }
            if (kind != null) {
                return Optional.of(new Problem(403, "\"agentUrl\" " + agentUrl + " leads to " + a.getHostAddress() + ", "
                        + kind + "; the coordinator does not send credentials there. Give the agent's address on the "
                        + "cluster network" + (a.isLoopbackAddress() || a.isLinkLocalAddress() ? " (a test on one "
                        + "host may set gpu-agent.coordinator.allow-loopback-agents=true)" : "")));
            }
        }
        return Optional.empty();
    }
}
