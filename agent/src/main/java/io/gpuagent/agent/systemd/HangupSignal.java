package io.gpuagent.agent.systemd;

import io.gpuagent.agent.reload.ConfigReload;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;
import sun.misc.Signal;

/**
 * SIGHUP reloads the configuration ({@code systemctl reload gpu-agent}: the unit's {@code ExecReload=} sends it),
 * telling systemd {@code RELOADING=1} before and {@code READY=1} after, so the reload command returns when the
 * new configuration is in force or refused. Replaces the JVM's own SIGHUP handler, which would shut the agent down.
 * {@code sun.misc.Signal} is in jdk.unsupported, which the packaged runtime includes.
 */
@Startup
@ApplicationScoped
public class HangupSignal {

    private static final Logger LOG = Logger.getLogger(HangupSignal.class);

    private final ConfigReload reload;
    private final SystemdNotifier notifier;
    private final AtomicBoolean running = new AtomicBoolean();
    private volatile boolean again;

    public HangupSignal(ConfigReload reload, SystemdNotifier notifier) {
        this.reload = reload;
        this.notifier = notifier;
        try {
            Signal.handle(new Signal("HUP"), s -> hangup());
        } catch (IllegalArgumentException e) {
            // -Xrs, or another handler the JVM will not give up: the HTTP endpoint still reloads.
            LOG.warnf("SIGHUP cannot be caught (%s): systemctl reload will not reload the configuration; use "
                    + "POST /v1/config/reload or restart the agent", e.getMessage());
        }
    }

    /**
     * On the JVM's signal thread (a new one per signal). A burst of signals runs at most one reload at a time
     * and one more after it, never a thread per signal waiting on the lock.
     */
    void hangup() {
        again = true;
        while (again && running.compareAndSet(false, true)) {
            try {
                while (again) {
                    again = false;
                    notifier.reloading();
                    ConfigReload.Outcome outcome = reload.reload("SIGHUP");
                    notifier.reloaded(outcome.applied());
                }
            } catch (RuntimeException e) {
                LOG.errorf(e, "configuration reload on SIGHUP failed; the agent goes on as it was");
                notifier.reloaded(false);
            } finally {
                running.set(false);
            }
        }
    }
}
