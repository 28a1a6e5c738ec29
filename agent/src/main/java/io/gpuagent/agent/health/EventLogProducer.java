package io.gpuagent.agent.health;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.health.detect.XidClass;
import io.gpuagent.agent.health.detect.XidDetector;
import io.gpuagent.agent.journal.AgentEvent;
import io.gpuagent.agent.journal.EventLog;
import io.gpuagent.agent.journal.JournalConfig;
import io.gpuagent.agent.journal.JournalWatch;
import io.gpuagent.agent.journal.JsonlJournal;
import io.gpuagent.agent.kubelet.PodMap;
import io.gpuagent.agent.kubelet.PodRef;
import io.gpuagent.agent.sampler.PodAttribution;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.function.Predicate;

/**
 * The one {@link EventLog} of this agent, in {@code gpu-agent.state-dir/events.jsonl}. Made here, not in the
 * journal package, because which events are kept apart as fatal is the health model's XID classification.
 */
@ApplicationScoped
public class EventLogProducer {

    /** Events kept in memory for {@code /v1/events} and stream resumption; the file keeps up to 4x this. */
    static final int MEMORY_CAPACITY = 10_000;

    @Produces
    @Singleton
    EventLog eventLog(AgentConfig config, JournalConfig journal, HealthConfig health, ObjectMapper mapper,
                      JournalWatch watch, PodAttribution pods) {
        EventLog log = new EventLog(config.stateDir(), MEMORY_CAPACITY, 4L * MEMORY_CAPACITY, mapper,
                JsonlJournal.Disk.REAL, journal.onCorruption(), fatal(XidDetector.withOverrides(health.xidClass())));
        log.annotateWith(event -> withPods(event, pods.current()));
        watch.register(EventLog.FILE_NAME, log);
        return log;
    }

    /**
     * The event with the containers that hold its device now (its MIG device's, else its GPU's), from the kubelet's
     * last good answer; unchanged for node-level events and devices no container holds.
     */
    static AgentEvent withPods(AgentEvent event, PodMap held) {
        if (event.pods() != null || event.uuid() == null || held.isEmpty()) {
            return event;
        }
        List<PodRef> refs = held.pods(event.migUuid() != null ? event.migUuid() : event.uuid());
        return refs.isEmpty() ? event : event.withPods(refs.stream().limit(AgentEvent.MAX_PODS)
                .map(r -> new AgentEvent.Pod(r.namespace(), r.pod(), r.container())).toList());
    }

    /** What /health names until it is cleared: a state change to UNHEALTHY or LOST, an XID classed fatal or lost. */
    static Predicate<AgentEvent> fatal(XidDetector xids) {
        return e -> EventLog.fatalStateChange(e) || (AgentEvent.XID.equals(e.kind()) && fatalXid(xids, e.code()));
    }

    private static boolean fatalXid(XidDetector xids, String code) {
        try {
            XidClass c = xids.classOf(Integer.parseInt(code));
            return c == XidClass.FATAL || c == XidClass.LOST;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    void close(@Disposes EventLog log) {
        log.close();
    }
}
