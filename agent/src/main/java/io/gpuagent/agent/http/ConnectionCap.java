package io.gpuagent.agent.http;

import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.auth.RefusalLog;
import io.micrometer.core.instrument.Counter;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * {@code gpu-agent.http.max-connections-per-address}: one client address (an IPv6 client: its /64) holds at most
 * that many connections; one more is closed as soon as it is accepted, before Vert.x reads a byte of it, and
 * counted in {@code gpu_agent_http_connections_refused_total}, with one WARN per minute. Without it a single
 * client (a broken script, a compromised node) could take every one of {@code quarkus.http.limits.max-connections},
 * and with them the Slurm health check's and Prometheus' way in.
 *
 * <p>Where: on the listening socket's Netty pipeline, where accepted connections pass (as messages) on their way
 * to Vert.x. Quarkus does not hand out its Vert.x servers, and it already owns their single connection handler (for
 * {@code max-connections}), so the guard is added to the listening socket the first time a request shows which it
 * is (each listener: TCP, TLS, a unix socket). Connections accepted before that are counted at their first
 * request, by the filter below, and closed there when over the cap; either way a connection is counted once and
 * uncounted when it closes.
 *
 * <p>The filter also gives each connection an exception handler that ends the process on an out-of-memory error
 * (Netty reports a failed write or encoder there, {@link OutOfMemoryExit}).
 */
@ApplicationScoped
public class ConnectionCap {

    private static final Logger LOG = Logger.getLogger(ConnectionCap.class);
    private static final AttributeKey<String> COUNTED = AttributeKey.valueOf("gpu-agent.connection-cap.address");
    /** Runs before every other filter (ReaderGate is 100). */
    static final int PRIORITY = 10_000;

    private final int max;
    private final Counter refused;
    private final RefusalLog refusals = new RefusalLog(System::nanoTime, LOG::warn);
    private final Map<String, Integer> open = new ConcurrentHashMap<>();
    private final Set<Channel> guarded = ConcurrentHashMap.newKeySet();
    private final Guard guard = new Guard();

    public ConnectionCap(ConnectionsConfig config, AgentRegistry registry) {
        if (config.maxConnectionsPerAddress() < 1) {
            throw new IllegalArgumentException("gpu-agent.http.max-connections-per-address must be at least 1, got "
                    + config.maxConnectionsPerAddress());
        }
        this.max = config.maxConnectionsPerAddress();
        this.refused = Counter.builder("gpu_agent_http_connections_refused")
                .description("Connections closed at accept because their client address already held "
                        + "gpu-agent.http.max-connections-per-address connections.")
                .register(registry.registry());
    }

    void register(@Observes Filters filters) {
        filters.register(this::filter, PRIORITY);
    }

    /** Connections open now from {@code address} (as {@link #key} names it). */
    int openFrom(String address) {
        return open.getOrDefault(address, 0);
    }

    private void filter(RoutingContext rc) {
        HttpConnection connection = rc.request().connection();
        if (!(connection instanceof ConnectionBase base)) {
            rc.next();   // not a Vert.x network connection (none in this agent): nothing to count
            return;
        }
        Channel channel = base.channel();
        if (channel.parent() != null && guarded.add(channel.parent())) {
            channel.parent().pipeline().addFirst("gpu-agent-connection-cap", guard);
        }
        connection.exceptionHandler(OutOfMemoryExit::exitIfOutOfMemory);
        if (channel.attr(COUNTED).get() == null) {   // accepted before the guard was there
            if (!admit(channel)) {
                connection.close();
                return;
            }
        }
        rc.next();
    }

    /** Counts {@code channel} against its address until it closes; false (and counted as refused) over the cap. */
    private boolean admit(Channel channel) {
        String key = key(channel.remoteAddress());
        channel.attr(COUNTED).set(key);
        int now = open.merge(key, 1, Integer::sum);
        channel.closeFuture().addListener(f -> open.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1));
        if (now <= max) {
            return true;
        }
        refused.increment();
        refusals.warn(RefusalLog.Kind.CONNECTIONS_PER_ADDRESS, "closed a connection from " + key + ": it already "
                + "holds " + max + " (gpu-agent.http.max-connections-per-address); a client that needs more is "
                + "opening connections without closing them, or raise the cap");
        return false;
    }

    /**
     * The client's address, an IPv6 one cut to its /64 (one host, one network, can have them all). A unix socket
     * peer has no address: all of them are one.
     */
    static String key(SocketAddress remote) {
        if (!(remote instanceof InetSocketAddress inet) || inet.getAddress() == null) {
            return "local";
        }
        return key(inet.getAddress());
    }

    /** As {@link #key(SocketAddress)}, for Vert.x's address of a request (a literal; never looked up). */
    static String key(io.vertx.core.net.SocketAddress remote) {
        if (remote == null || remote.hostAddress() == null || remote.hostAddress().isEmpty()) {
            return "local";
        }
        try {
            return key(InetAddress.ofLiteral(remote.hostAddress()));
        } catch (IllegalArgumentException e) {
            return "local";   // a unix socket peer
        }
    }

    private static String key(InetAddress a) {
        if (a instanceof Inet6Address) {
            byte[] prefix = Arrays.copyOf(a.getAddress(), 16);
            Arrays.fill(prefix, 8, 16, (byte) 0);
            try {
                return InetAddress.getByAddress(prefix).getHostAddress() + "/64";
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException(e);   // 16 bytes is always an address
            }
        }
        return a.getHostAddress();
    }

    /**
     * On the listening socket's pipeline: each accepted connection arrives as a message. Over the cap it is
     * closed before it is registered with an event loop, as Netty's acceptor closes one it cannot register.
     */
    @ChannelHandler.Sharable
    private final class Guard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel child) {
                if (!admit(child)) {
                    // Not registered yet, so its close future never completes: uncount it here.
                    open.computeIfPresent(child.attr(COUNTED).get(), (k, n) -> n <= 1 ? null : n - 1);
                    child.unsafe().closeForcibly();
                    return;
                }
            }
            ctx.fireChannelRead(msg);
        }
    }
}
