package io.gpuagent.agent.systemd;

import io.gpuagent.agent.OneLine;
import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.recovery.RecoveryConfig;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.Snapshot;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.vertx.http.DomainSocketServerStart;
import io.quarkus.vertx.http.HttpServerStart;
import io.quarkus.vertx.http.HttpsServerStart;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.interceptor.Interceptor;
import java.io.IOException;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Tells systemd (Type=notify) how the agent is: {@code READY=1} once the first snapshot is published and the
 * HTTP server listens (so {@code systemctl start} returns when /metrics is complete), {@code WATCHDOG=1}
 * after every published sweep once the HTTP server answered a self-probe ({@link WatchdogPing}: a wedged
 * sampler or a wedged server stops them and systemd restarts the agent after {@code WatchdogSec}),
 * {@code STATUS=} a one-line summary when it changes ({@link OneLine}: it carries NVML's words), {@code
 * STOPPING=1} at shutdown. Without {@code $NOTIFY_SOCKET} (not started by systemd, or Type=simple) it does
 * nothing.
 */
@Startup
@ApplicationScoped
public class SystemdNotifier {

    private static final Logger LOG = Logger.getLogger(SystemdNotifier.class);
    /** What systemctl status shows on one line; NVML's reason for being down is the only long part. */
    static final int STATUS_MAX = 200;
    /** How long the HTTP server has to answer the watchdog's probe; WatchdogSec (30 s) allows many misses. */
    static final Duration PROBE_DEADLINE = Duration.ofSeconds(2);

    private final SamplerService sampler;
    private final HealthModel health;
    private final RecoveryConfig recovery;
    private final NotifySocket socket;
    private final String domainSocket;  // the server's unix socket, which the probe prefers; null when none
    private WatchdogPing ping;          // guarded by this: null until the server to probe is known
    private boolean httpUp;           // guarded by this
    private boolean started;          // guarded by this
    private boolean sampled;          // guarded by this
    private boolean ready;            // guarded by this
    private String status = "";       // guarded by this
    private boolean failing;          // guarded by this: one warning per run of failed sends
    private boolean stopped;          // guarded by this

    public SystemdNotifier(SamplerService sampler, HealthModel health, RecoveryConfig recovery,
                           @ConfigProperty(name = "quarkus.http.domain-socket-enabled", defaultValue = "false") boolean domainSocketEnabled,
                           @ConfigProperty(name = "quarkus.http.domain-socket", defaultValue = "/var/run/io.quarkus.app.socket") String domainSocket) {
        this.sampler = sampler;
        this.health = health;
        this.recovery = recovery;
        this.domainSocket = domainSocketEnabled ? domainSocket : null;
        this.socket = open(System.getenv("NOTIFY_SOCKET"));
        if (socket == null) {
            return;
        }
        watchdogInterval().ifPresent(w -> {
            if (sampler.config().sampleInterval().compareTo(w.dividedBy(2)) > 0) {
                LOG.warnf("gpu-agent.sample-interval %s is more than half of WatchdogSec (%s): systemd may restart a "
                        + "healthy agent; raise WatchdogSec= in the unit or shorten the interval",
                        sampler.config().sampleInterval(), w);
            }
        });
        sampler.onSnapshot(this::swept);
        Snapshot latest = sampler.latest();
        if (latest.sequence() > 0) {
            swept(latest);   // the first sweep finished before this listener was added
        }
    }

    // Quarkus fires these asynchronously once the server accepts connections.
    void httpStarted(@ObservesAsync HttpServerStart event) {
        listening(domainSocket == null ? HttpSelfProbe.target(null, event.options().getHost(), event.options().getPort()) : null);
    }

    void httpsStarted(@ObservesAsync HttpsServerStart event) {
        listening(null);   // the probe speaks plain HTTP: over the plain port or the domain socket
    }

    void domainSocketStarted(@ObservesAsync DomainSocketServerStart event) {
        listening(domainSocket == null ? null : HttpSelfProbe.target(domainSocket, null, 0));
    }

    /** After the other start-up observers (NvmlConnector's first attempt to load NVML among them). */
    void started(@Observes @Priority(Interceptor.Priority.LIBRARY_AFTER + 1000) StartupEvent event) {
        synchronized (this) {
            started = true;
        }
        if (socket != null) {
            // The sweep NVML's start asked for may have been published just before this: sweep again now
            // rather than leave READY=1 to the next interval.
            sampler.sweepSoon();
        }
    }

    void stopping(@Observes ShutdownEvent event) {
        WatchdogPing p;
        synchronized (this) {
            if (socket == null || stopped) {
                return;
            }
            stopped = true;   // a sweep or a probe finishing after this must not touch the closed socket
            send("STOPPING=1\nSTATUS=stopping");
            p = ping;
        }
        if (p != null) {
            p.close();   // outside the lock: its thread may be waiting for it to send
        }
        socket.close();
    }

    /**
     * A reload begins (sd_notify(3)'s reload protocol): {@code RELOADING=1} with the CLOCK_MONOTONIC time, which
     * is what {@link System#nanoTime()} reads on Linux. {@link #reloaded} ends it.
     */
    synchronized void reloading() {
        if (socket != null && !stopped) {
            send("RELOADING=1\nMONOTONIC_USEC=" + System.nanoTime() / 1000 + "\nSTATUS=reloading the configuration");
        }
    }

    /** The reload is over (in force or refused: either way the agent runs): {@code READY=1} again. */
    synchronized void reloaded(boolean applied) {
        if (socket != null && !stopped) {
            send("READY=1\nSTATUS=" + OneLine.of((applied ? "" : "configuration reload refused (see the log), ")
                    + status, STATUS_MAX));
        }
    }

    /** The server listens; {@code probeTarget} is where the watchdog's probe reaches it, null when not there. */
    private synchronized void listening(SocketAddress probeTarget) {
        httpUp = true;
        if (probeTarget != null && ping == null && socket != null && !stopped) {
            ping = new WatchdogPing(new HttpSelfProbe(probeTarget, PROBE_DEADLINE), m -> watchdog());
            LOG.infof("WATCHDOG=1 goes to systemd after each sweep once GET %s on %s answers within %s",
                    HttpSelfProbe.PATH, probeTarget, PROBE_DEADLINE);
        }
        readyIfComplete();
    }

    /** From the probe's thread, after the server answered. */
    private synchronized void watchdog() {
        if (!stopped) {
            send("WATCHDOG=1");
        }
    }

    /** On the sampler thread, after each published sweep: this call is the proof that sweeps make progress. */
    private synchronized void swept(Snapshot snapshot) {
        if (snapshot.sequence() == 0 || stopped) {
            return;
        }
        // Sweeps before start-up finished ran before NVML was even tried: not what /metrics will say.
        sampled |= started;
        String now = OneLine.of(summary(snapshot), STATUS_MAX);
        boolean changed = !now.equals(status);
        status = now;
        if (readyIfComplete()) {
            return;
        }
        if (ping != null) {
            ping.swept();   // WATCHDOG=1 once the server answers the probe, from the probe's thread
            if (changed) {
                send("STATUS=" + status);
            }
        } else {
            // No server to probe (yet, or HTTPS only without a domain socket): the sweep alone is the proof.
            send(changed ? "WATCHDOG=1\nSTATUS=" + status : "WATCHDOG=1");
        }
    }

    /** Sends READY=1 (with the status) once both the first snapshot and the HTTP server are there. */
    private boolean readyIfComplete() {
        if (ready || stopped || !httpUp || !sampled || socket == null) {
            return false;
        }
        ready = true;
        send("READY=1\nWATCHDOG=1\nSTATUS=" + status);
        LOG.infof("told systemd READY=1 (%s)", status);
        return true;
    }

    /** "8 GPUs, 1 unhealthy, observe mode": what systemctl status shows. */
    String summary(Snapshot snapshot) {
        String mode = recovery.mode().name().toLowerCase(Locale.ROOT) + " mode";
        if (!snapshot.nvmlUp()) {
            return "NVML unavailable (" + snapshot.nvmlDownReason() + "), " + mode;
        }
        List<GpuHealth> gpus = health.gpus();
        long unhealthy = gpus.stream().filter(g -> g.state() == HealthState.UNHEALTHY).count();
        long lost = gpus.stream().filter(g -> g.state() == HealthState.LOST).count();
        long degraded = gpus.stream().filter(g -> g.state() == HealthState.DEGRADED).count();
        StringBuilder s = new StringBuilder().append(snapshot.gpus().size()).append(snapshot.gpus().size() == 1 ? " GPU" : " GPUs");
        if (unhealthy > 0) {
            s.append(", ").append(unhealthy).append(" unhealthy");
        }
        if (lost > 0) {
            s.append(", ").append(lost).append(" lost");
        }
        if (degraded > 0) {
            s.append(", ").append(degraded).append(" degraded");
        }
        if (unhealthy + lost + degraded == 0) {
            s.append(", all healthy");
        }
        return s.append(", ").append(mode).toString();
    }

    private void send(String message) {
        try {
            socket.send(message);
            failing = false;
        } catch (IOException e) {
            if (!failing) {
                LOG.warnf("could not notify systemd: %s; systemd may time the start out or restart the agent "
                        + "(check the unit's NotifyAccess= and that nothing else owns the socket)", e.getMessage());
            }
            failing = true;
        }
    }

    private static NotifySocket open(String path) {
        if (path == null || path.isEmpty()) {
            return null;
        }
        try {
            return new NotifySocket(path);
        } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
            LOG.warnf("NOTIFY_SOCKET is set but unusable (%s): systemd will not see the agent ready; run the unit "
                    + "with Type=simple or fix the socket", e.getMessage());
            return null;
        }
    }

    /** systemd's WatchdogSec=, passed as {@code $WATCHDOG_USEC} when the unit sets one. */
    private static Optional<Duration> watchdogInterval() {
        try {
            String usec = System.getenv("WATCHDOG_USEC");
            return usec == null ? Optional.empty() : Optional.of(Duration.ofNanos(Long.parseLong(usec) * 1000));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
