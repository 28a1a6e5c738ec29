package io.gpuagent.agent.journal;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Child process for {@link JournalCrashTest}: appends events from several threads until killed, printing
 * {@code ack:<id>.} for each one only after {@link EventLog#append} returned, i.e. after it was acknowledged.
 * Args: state dir, memory capacity, compact-at lines, appender threads.
 */
public final class JournalCrashChild {

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int capacity = Integer.parseInt(args[1]);
        long compactAt = Long.parseLong(args[2]);
        int threads = Integer.parseInt(args[3]);
        PrintStream out = System.out;
        EventLog log = new EventLog(dir, capacity, compactAt, new ObjectMapper());
        for (int t = 0; t < threads; t++) {
            int gpu = t;
            Thread.ofPlatform().start(() -> {
                for (long i = 0; ; i++) {
                    AgentEvent e = log.append(AgentEvent.of(gpu, "GPU-" + gpu, AgentEvent.XID, "xid", "79",
                            "crash test event " + i + " from appender " + gpu));
                    synchronized (out) {
                        out.print("ack:" + e.id() + ".\n");   // the '.' tells a whole line from one cut by the kill
                        out.flush();
                    }
                }
            });
        }
    }
}
