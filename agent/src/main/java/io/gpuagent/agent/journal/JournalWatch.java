package io.gpuagent.agent.journal;

import io.gpuagent.agent.AgentRegistry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Keeps the agent honest about its journals ({@code events}, {@code actions}, {@code leases}): a journal
 * whose disk refused a write or an fsync accepts nothing until it is reopened, so it shows in
 * {@code /health} (503 with the reason) and in {@code gpu_agent_journal_up{journal}}, and it is reopened,
 * rewritten to what its owner acknowledged, as soon as the disk takes writes again: tried every
 * {@code initialDelay}, doubling to {@code maxDelay} while it keeps failing.
 *
 * <p>In the agent the journals are looked at after every sampler sweep (a few flag reads on the sampler
 * thread); the {@code journal-watch} thread starts only when one has failed, to reopen it off the sampler
 * thread. A healthy agent pays no thread and no wake-ups for it (it used to poll every 250 ms).
 */
@ApplicationScoped
public class JournalWatch {

    /** What an owner (EventLog, ActionAudit, LeaseBook) exposes of its journal. */
    public interface Watched {
        /** Why the journal accepts no records, or empty while it works. */
        Optional<String> failure();

        /** Opens the journal again and rewrites it to what the owner acknowledged; throws while the disk fails. */
        void reopen() throws IOException;
    }

    static final String JOURNAL_UP = "gpu_agent.journal.up";

    private static final Logger LOG = Logger.getLogger(JournalWatch.class);

    private final MeterRegistry registry;
    private final Duration initialDelay;
    private final Duration maxDelay;
    private final Map<String, Retry> journals = new ConcurrentHashMap<>();
    // The thread is created by the first task: never, while every journal works (the agent's constructor).
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("journal-watch").factory());
    private final AtomicBoolean checkQueued = new AtomicBoolean();

    @Inject
    public JournalWatch(AgentRegistry agentRegistry) {
        this.registry = agentRegistry.registry();
        this.initialDelay = Duration.ofSeconds(1);
        this.maxDelay = Duration.ofSeconds(60);
    }

    /** Standalone (tests): the timer looks every {@code initialDelay / 4}. */
    public JournalWatch(MeterRegistry registry, Duration initialDelay, Duration maxDelay) {
        this.registry = registry;
        this.initialDelay = initialDelay;
        this.maxDelay = maxDelay;
        long tick = Math.max(10, initialDelay.toMillis() / 4);
        timer.scheduleWithFixedDelay(this::check, tick, tick, TimeUnit.MILLISECONDS);
    }

    /**
     * After each sampler sweep, on the sampler thread ({@code SamplerService} calls it): hands a check to the
     * timer thread while some journal has failed or is recovering.
     */
    public void afterSweep() {
        boolean any = false;
        for (Retry r : journals.values()) {
            any |= r.failed || r.journal.failure().isPresent();
        }
        if (any && checkQueued.compareAndSet(false, true)) {
            try {
                timer.execute(() -> {
                    checkQueued.set(false);
                    check();
                });
            } catch (RejectedExecutionException e) {
                checkQueued.set(false);   // shutting down
            }
        }
    }

    /** Watches one journal under {@code name} (the value of the {@code journal} label). */
    public void register(String name, Watched journal) {
        journals.put(name, new Retry(journal));
        Gauge.builder(JOURNAL_UP, journal, j -> j.failure().isEmpty() ? 1 : 0)
                .description("1 while the journal accepts records; 0 after its disk refused a write or an fsync, "
                        + "until the agent reopens it (see /health).")
                .tag("journal", name).strongReference(true).register(registry);
    }

    /** Failed journals by name, with why: what /health reports. */
    public Map<String, String> failures() {
        Map<String, String> out = new TreeMap<>();
        journals.forEach((name, r) -> r.journal.failure().ifPresent(why -> out.put(name, why
                + " (it accepts no records; the agent reopens it when the disk takes writes again: check space and "
                + "permissions of gpu-agent.state-dir)")));
        return out;
    }

    void stop(@Observes ShutdownEvent event) {
        timer.shutdownNow();
    }

    private void check() {
        long now = System.nanoTime();
        journals.forEach((name, r) -> {
            try {
                r.check(name, now);
            } catch (RuntimeException e) {
                LOG.errorf(e, "checking the %s journal failed", name);
            }
        });
    }

    /** Backoff state of one journal; touched only by the timer thread. */
    private final class Retry {
        final Watched journal;
        Duration delay = initialDelay;
        long nextAttempt;
        volatile boolean failed;   // read by checkIfFailed on the sampler thread

        Retry(Watched journal) {
            this.journal = journal;
        }

        void check(String name, long now) {
            Optional<String> failure = journal.failure();
            if (failure.isEmpty()) {
                failed = false;
                delay = initialDelay;
                return;
            }
            if (!failed) {
                failed = true;
                nextAttempt = now + delay.toNanos();
                LOG.errorf("the %s journal failed (%s); /health answers 503 until it is reopened; retrying every %s "
                        + "up to %s: free space or fix permissions in gpu-agent.state-dir", name, failure.get(), delay, maxDelay);
                return;
            }
            if (now - nextAttempt < 0) {
                return;
            }
            try {
                journal.reopen();
                LOG.infof("the %s journal is writable again: reopened and rewritten to what was acknowledged", name);
                failed = false;
                delay = initialDelay;
            } catch (IOException | RuntimeException e) {
                delay = delay.multipliedBy(2).compareTo(maxDelay) > 0 ? maxDelay : delay.multipliedBy(2);
                nextAttempt = now + delay.toNanos();
                LOG.warnf("the %s journal still cannot be reopened (%s); next try in %s", name, e.getMessage(), delay);
            }
        }
    }
}
