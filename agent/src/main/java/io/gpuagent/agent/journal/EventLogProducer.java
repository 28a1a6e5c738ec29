package io.gpuagent.agent.journal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.sampler.SamplerService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** The one {@link EventLog} of this agent, in {@code gpu-agent.state-dir/events.jsonl}. */
@ApplicationScoped
public class EventLogProducer {

    /** Events kept in memory for {@code /v1/events} and stream resumption; the file keeps up to 4x this. */
    static final int MEMORY_CAPACITY = 10_000;

    @Produces
    @Singleton
    EventLog eventLog(AgentConfig config, JournalConfig journal, ObjectMapper mapper, JournalWatch watch) {
        EventLog log = new EventLog(config.stateDir(), MEMORY_CAPACITY, 4L * MEMORY_CAPACITY, mapper,
                JsonlJournal.Disk.REAL, journal.onCorruption());
        watch.register(EventLog.FILE_NAME, log);
        return log;
    }

    void close(@Disposes EventLog log) {
        log.close();
    }
}
